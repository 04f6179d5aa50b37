import * as fs from "node:fs";
import { formatFixed } from "../../engine/decimal.ts";
import { loadFixtures } from "../../sim/binance/fixtures.ts";
import { tapeTotals } from "../../sim/binance/tape.ts";
import { checkConservation, checkOnce, checkOracle, compose } from "../../scenarios/checkers.ts";
import { parseCommittedLine, type CommittedRow } from "../../scenarios/committed.ts";
import { windowOracle } from "../../scenarios/oracle.ts";
import { parseArgs, str, UsageError, windowMs } from "../args.ts";
import { HELP } from "../help.ts";
import { inputFile } from "../paths.ts";
import { NodeFs } from "../../engine/state/fs.ts";
import { readCommittedLines } from "../../engine/connectors/sinks/transactional-file-sink.ts";
import { liveParts } from "../../engine/connectors/sinks/part-files.ts";
import { FIXTURE_BOOLEANS, FIXTURE_VALUES, fixtureFlags, tapeCounts, tapeSummary, writeQuarantine } from "./fixture-input.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const CHECK_USAGE = HELP.check.usage;

/**
 * Checks any engine's window output against the oracle of a tape: every window once, exact
 * sums and counts. Output lines are {"symbol"|"key","start","end","quantity":"<decimal>","count"}.
 */
export async function checkCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["tape", "output", "window", ...FIXTURE_VALUES], booleans: ["json", ...FIXTURE_BOOLEANS] });
  const tapePath = str(a, "tape");
  const outPath = str(a, "output");
  if (!tapePath || !outPath) throw new UsageError(`check needs --tape and --output\nusage: ${CHECK_USAGE}`);
  const size = windowMs(a, "window", 60_000);
  for (const t of tapePath.split(",")) inputFile(t, "--tape");
  const inputs = fixtureFlags(a);
  const tapePaths = tapePath.split(",");
  const tape = loadFixtures(tapePaths, { lenient: inputs.lenient, bounds: inputs.bounds });
  // Lenient: the bad lines go beside the results being checked unless --quarantine says where.
  const rows = readResults(outPath);
  const quarantined = writeQuarantine(tape, inputs.quarantine ?? `${outPath}.quarantine.jsonl`);
  const oracle = windowOracle(tape, size);
  const checks = [checkOracle(rows, oracle), checkOnce(rows), checkConservation(rows, new Map(), tapeTotals(tape))];
  const valid = compose(checks) === true;
  if (a.flags.has("json")) {
    console.log(JSON.stringify({
      command: "check", ...tapeCounts(tape), quarantineFile: quarantined, windows: oracle.length, committed: rows.length,
      properties: checks.map((c) => ({ property: c.property, valid: c.valid, message: c.message })),
      violations: checks.filter((c) => c.valid === false).length,
      expected: oracle.map((w) => ({ symbol: w.symbol, start: w.start, end: w.end, quantity: formatFixed(w.quantity), count: w.count })),
    }));
  } else {
    console.log(tapeSummary(tape, tapePaths.length, quarantined));
    for (const c of checks) console.log(`${c.valid === true ? "✔" : "✘"} ${c.property}: ${c.message}`);
  }
  return valid ? 0 : 1;
}

/**
 * The results: a JSONL file, or the transactional file sink's output directory (`DIR/out` of a
 * `--checkpoint-dir` run), read as a downstream reader would, through readCommittedLines.
 */
function readResults(outPath: string): CommittedRow[] {
  if (!fs.existsSync(outPath)) throw new UsageError(`--output: ${outPath}: no such file`);
  const st = fs.statSync(outPath);
  if (st.isDirectory()) {
    const nfs = new NodeFs();
    if (liveParts(nfs, outPath).live.length === 0) throw new UsageError(`--output: ${outPath} is a directory with no part-*.jsonl files (give a results file, or a file sink's output directory)`);
    return readCommittedLines(nfs, outPath).map((l, i) => parseCommittedLine(l, `${outPath}/part-*.jsonl`, i + 1));
  }
  if (!st.isFile()) throw new UsageError(`--output: ${outPath} is not a regular file`);
  return fs.readFileSync(outPath, "utf8").split("\n").flatMap((l, i) => (l.trim() ? [parseCommittedLine(l, outPath, i + 1)] : []));
}
