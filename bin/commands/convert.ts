import { convertCsvToJsonl } from "../../sim/binance/csv.ts";
import { checkSymbol } from "../../sim/binance/trade-domain.ts";
import { parseArgs, str, UsageError } from "../args.ts";
import { FIXTURE_BOOLEANS, FIXTURE_VALUES, fixtureFlags, tapeSummary, writeQuarantine } from "./fixture-input.ts";

export const CONVERT_USAGE = "flinch convert TRADES.csv --symbol BTCUSDT --out F.jsonl [--lenient [--quarantine FILE]] [--allow-future]";

/**
 * `flinch convert` (data.binance.vision trades CSV to a JSONL fixture). Strict by default; with
 * --lenient the bad lines go to a quarantine file (default F.jsonl.quarantine.jsonl) and are counted.
 */
export async function convertCommand(argv: string[]): Promise<number> {
  try {
    return convert(argv);
  } catch (e) {
    // Callers that run this command directly (not through main) get the same exit 2 and one line.
    if ((e as { exitCode?: unknown } | undefined)?.exitCode !== 2 && !(e instanceof UsageError)) throw e;
    console.error(`flinch convert: ${(e as Error).message}`);
    return 2;
  }
}

function convert(argv: string[]): number {
  const a = parseArgs(argv, { values: ["symbol", "out", ...FIXTURE_VALUES], booleans: [...FIXTURE_BOOLEANS] });
  const positional = a.positional;
  if (positional.length !== 1) throw new UsageError(`give exactly one TRADES.csv\nusage: ${CONVERT_USAGE}`);
  const symbol = str(a, "symbol");
  const out = str(a, "out");
  if (!symbol) throw new UsageError("--symbol is required (e.g. --symbol BTCUSDT)");
  if (!out) throw new UsageError("--out F.jsonl is required");
  try {
    checkSymbol(symbol.toUpperCase(), "symbol");
  } catch (e) {
    throw new UsageError(`--symbol: ${(e as Error).message}`);
  }
  const inputs = fixtureFlags(a);
  const tape = convertCsvToJsonl(positional[0], symbol, out, { lenient: inputs.lenient, bounds: inputs.bounds });
  const quarantined = writeQuarantine(tape, inputs.quarantine ?? `${out}.quarantine.jsonl`);
  console.log(`flinch convert: ${symbol.toUpperCase()} to ${out}: ${tapeSummary(tape, 1, quarantined)}`);
  return 0;
}
