import * as fs from "node:fs";
import { tradeBounds, type TradeBounds } from "../../sim/binance/trade-domain.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import { UsageError, type ParsedArgs } from "../args.ts";

/**
 * What every command that reads fixtures (replay, check, convert) shares: the same flags mean
 * the same thing, bad lines go to a quarantine file with a count, and the summary line names
 * everything that was set aside. docs/input-validation.md is the decision record.
 */

/** Flags every fixture-reading command accepts. */
export const FIXTURE_BOOLEANS = ["lenient", "allow-future"] as const;
export const FIXTURE_VALUES = ["quarantine"] as const;

export interface FixtureFlags {
  lenient: boolean;
  bounds: TradeBounds;
  /** Where quarantined lines go (--quarantine), if the user chose. */
  quarantine?: string;
}

export function fixtureFlags(a: ParsedArgs): FixtureFlags {
  // The one wall-clock read on the input path: "now" for the upper bound of trade times.
  // sim/ never reads the clock; it gets the bounds from here.
  const now = Date.now();
  const q = a.flags.get("quarantine");
  return { lenient: a.flags.has("lenient"), bounds: tradeBounds(now, a.flags.has("allow-future")), quarantine: typeof q === "string" ? q : undefined };
}

/** Writes the quarantined lines as JSONL ({file, line, reason, text}); returns the path, or undefined when none. */
export function writeQuarantine(tape: Tape, file: string): string | undefined {
  const q = tape.stats.quarantined;
  if (q.length === 0) return undefined;
  try {
    fs.writeFileSync(file, q.map((x) => JSON.stringify(x)).join("\n") + "\n");
  } catch (e) {
    throw new UsageError(`--quarantine: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return file;
}

/** One line: what was read and what was set aside, each with its number. */
export function tapeSummary(tape: Tape, files: number, quarantineFile?: string): string {
  const s = tape.stats;
  const skipped = Object.entries(s.skipped).map(([k, n]) => `${n} ${k}`).join(", ");
  return `${s.trades} trades from ${files} file(s), ${s.lines} lines; skipped ${skipped || "none"}; duplicates ${s.duplicates}; out of order ${s.reordered}; id gaps ${s.gaps.length}; quarantined ${s.quarantined.length}${quarantineFile ? ` (see ${quarantineFile})` : ""}`;
}

/** The same counts for --json output. */
export function tapeCounts(tape: Tape): Record<string, unknown> {
  const s = tape.stats;
  return { trades: s.trades, lines: s.lines, skipped: s.skipped, duplicates: s.duplicates, reordered: s.reordered, gaps: s.gaps.length, quarantined: s.quarantined.length };
}
