import { convertCsvToJsonl } from "../../sim/binance/csv.ts";
import { checkSymbol } from "../../sim/binance/trade-domain.ts";
import { parseArgs, str, UsageError } from "../args.ts";
import { HELP } from "../help.ts";
import { inputFile, outputFile } from "../paths.ts";
import { FIXTURE_BOOLEANS, FIXTURE_VALUES, fixtureFlags, tapeSummary, writeQuarantine } from "./fixture-input.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const CONVERT_USAGE = HELP.convert.usage;

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
  inputFile(positional[0]);
  outputFile(out, "--out");
  const inputs = fixtureFlags(a);
  const tape = convertCsvToJsonl(positional[0], symbol, out, { lenient: inputs.lenient, bounds: inputs.bounds });
  const quarantined = writeQuarantine(tape, inputs.quarantine ?? `${out}.quarantine.jsonl`);
  console.log(`flinch convert: ${symbol.toUpperCase()} to ${out}: ${tapeSummary(tape, 1, quarantined)}`);
  return 0;
}
