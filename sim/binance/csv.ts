import { renameSync, writeFileSync } from "node:fs";
import { tradeToPayload } from "../../engine/connectors/binance/codec.ts";
import { loadFixture } from "./fixtures.ts";
import { tapeTrades, type Tape } from "./tape.ts";
import type { TradeBounds } from "./trade-domain.ts";

/**
 * Tapes as fixture files: one raw `@trade` payload per line, ordered by symbol then id, "\n"
 * line endings — the format `fixtures/` holds and `loadFixture` reads back to the same tape.
 */
export function tapeToJsonl(tape: Tape): string {
  const out: string[] = [];
  for (const t of tapeTrades(tape)) out.push(JSON.stringify(tradeToPayload(t)));
  return out.length === 0 ? "" : out.join("\n") + "\n";
}

/**
 * `flinch convert`: a data.binance.vision trades CSV (plain or gzipped) to a JSONL fixture.
 * Strict by default, since a converted fixture is evidence; bad input throws FixtureError.
 * Written to a temporary name and renamed, so a failed run never leaves half a fixture.
 */
export function convertCsvToJsonl(csvPath: string, symbol: string, outPath: string, opts: { lenient?: boolean; bounds?: TradeBounds } = {}): Tape {
  const tape = loadFixture(csvPath, { symbol, lenient: opts.lenient ?? false, bounds: opts.bounds });
  const tmp = `${outPath}.tmp`;
  writeFileSync(tmp, tapeToJsonl(tape));
  renameSync(tmp, outPath);
  return tape;
}
