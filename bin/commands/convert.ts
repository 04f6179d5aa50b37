import { convertCsvToJsonl } from "../../sim/binance/csv.ts";
import { parseArgs, str, UsageError } from "../args.ts";
import { inputFile, outputFile } from "../paths.ts";

/** `flinch convert TRADES.csv --symbol BTCUSDT --out F.jsonl [--lenient]` (data.binance.vision trades CSV). */
export async function convertCommand(argv: string[]): Promise<number> {
  try {
    const a = parseArgs(argv, { values: ["symbol", "out"], booleans: ["lenient"] });
    const positional = a.positional;
    if (positional.length !== 1) throw new UsageError("give exactly one TRADES.csv");
    const symbol = str(a, "symbol");
    const out = str(a, "out");
    if (!symbol) throw new UsageError("--symbol is required (e.g. --symbol BTCUSDT)");
    if (!out) throw new UsageError("--out F.jsonl is required");
    inputFile(positional[0]);
    outputFile(out, "--out");
    const tape = convertCsvToJsonl(positional[0], symbol, out, { lenient: a.flags.has("lenient") });
    console.log(`flinch convert: ${tape.stats.trades} trades of ${symbol.toUpperCase()} to ${out}` + (tape.stats.gaps.length ? ` (${tape.stats.gaps.length} id gaps)` : ""));
    return 0;
  } catch (e) {
    if ((e as { exitCode?: unknown } | null)?.exitCode === 2) {
      console.error(`flinch convert: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
}
