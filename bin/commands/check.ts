import * as fs from "node:fs";
import { formatFixed } from "../../engine/decimal.ts";
import { loadFixtures } from "../../sim/binance/fixtures.ts";
import { tapeTotals } from "../../sim/binance/tape.ts";
import { checkConservation, checkOnce, checkOracle, compose } from "../../scenarios/checkers.ts";
import { parseCommittedLine } from "../../scenarios/committed.ts";
import { windowOracle } from "../../scenarios/oracle.ts";
import { parseArgs, str, UsageError, windowMs } from "../args.ts";
import { HELP } from "../help.ts";
import { inputFile } from "../paths.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const CHECK_USAGE = HELP.check.usage;

/**
 * Checks any engine's window output against the oracle of a tape: every window once, exact
 * sums and counts. Output lines are {"symbol"|"key","start","end","quantity":"<decimal>","count"}.
 */
export async function checkCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["tape", "output", "window"], booleans: ["json"] });
  const tapePath = str(a, "tape");
  const outPath = str(a, "output");
  if (!tapePath || !outPath) throw new UsageError(`check needs --tape and --output\nusage: ${CHECK_USAGE}`);
  for (const t of tapePath.split(",")) inputFile(t, "--tape");
  inputFile(outPath, "--output");
  const size = windowMs(a, "window", 60_000);
  const tape = loadFixtures(tapePath.split(","));
  const rows = fs.readFileSync(outPath, "utf8").split("\n").flatMap((l, i) => (l.trim() ? [parseCommittedLine(l, outPath, i + 1)] : []));
  const oracle = windowOracle(tape, size);
  const checks = [checkOracle(rows, oracle), checkOnce(rows), checkConservation(rows, new Map(), tapeTotals(tape))];
  const valid = compose(checks) === true;
  if (a.flags.has("json")) {
    console.log(JSON.stringify({
      command: "check", trades: tape.stats.trades, windows: oracle.length, committed: rows.length,
      properties: checks.map((c) => ({ property: c.property, valid: c.valid, message: c.message })),
      violations: checks.filter((c) => c.valid === false).length,
      expected: oracle.map((w) => ({ symbol: w.symbol, start: w.start, end: w.end, quantity: formatFixed(w.quantity), count: w.count })),
    }));
  } else {
    for (const c of checks) console.log(`${c.valid === true ? "✔" : "✘"} ${c.property}: ${c.message}`);
  }
  return valid ? 0 : 1;
}
