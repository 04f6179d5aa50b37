import * as path from "node:path";
import { formatFixed } from "../../engine/decimal.ts";
import { runScenario, runScenarioRealtime, tapeFor, type RunOptions } from "../../scenarios/run-scenario.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import type { Pace } from "../../sim/binance/server/exchange.ts";
import { parsePace } from "./pace.ts";
import { buildRunModel } from "../../scenarios/run-model.ts";
import { scenario, type ScenarioSpec } from "../../scenarios/spec.ts";
import { writeReport } from "../../reports/write-report.ts";
import { int, oneOf, parseArgs, runId, seed as seedFlag, str, UsageError, windowMs } from "../args.ts";
import { HELP } from "../help.ts";
import { inputFile, outputDir } from "../paths.ts";
import { sortRows, windowTable } from "../output.ts";
import { compose, PROPERTIES } from "../../scenarios/checkers.ts";
import { FIXTURE_BOOLEANS, FIXTURE_VALUES, fixtureFlags, tapeCounts, tapeSummary, writeQuarantine } from "./fixture-input.ts";
import { lateAwareChecks } from "./late-verdict.ts";
import { crashPlan } from "./crash-plan.ts";
import { formatReplayLine } from "../../scenarios/replay-line.ts";
import { painter } from "../colour.ts";
import { startProgress, type Progress } from "../progress.ts";
import { durableSpec, startingFrom, RESUME_BOOLEANS, RESUME_VALUES, resumeArgs, resumeFlags, resumeOptions, startLines } from "./resume-flags.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const REPLAY_USAGE = HELP.replay.usage;

/** Replays recorded trades through the seed job and checks the committed windows against the oracle. */
export async function replayCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["backend", "mode", "window", "via", "speed", "crash-every", "parallelism", "seed", "out", ...FIXTURE_VALUES, ...RESUME_VALUES], booleans: ["json", ...FIXTURE_BOOLEANS, ...RESUME_BOOLEANS] });
  if (a.positional.length === 0) throw new UsageError(`replay needs at least one FIXTURE\nusage: ${REPLAY_USAGE}`);
  for (const p of a.positional) inputFile(p);
  const outRoot = outputDir(str(a, "out") ?? "reports/out", "--out");
  const inputs = fixtureFlags(a);
  const backend = oneOf(a, "backend", ["memory", "file"] as const, "memory");
  const mode = oneOf(a, "mode", ["exactly-once", "at-least-once"] as const, "exactly-once");
  const via = oneOf(a, "via", ["sim", "ws", "intercept"] as const, "sim");
  const speed = str(a, "speed") ?? "max";
  parsePace(speed);
  const p = int(a, "parallelism", 1, 1);
  const crashEvery = int(a, "crash-every", 0, 1);
  const seed = String(seedFlag(a, 1));
  const lenient = inputs.lenient;
  const json = a.flags.has("json");
  const paths = a.positional.map((x) => path.resolve(x));

  let spec: ScenarioSpec = scenario({
    name: "replay",
    description: `replay of ${a.positional.join(", ")}`,
    seed,
    job: { backend, mode, sourceParallelism: p, windowParallelism: p, windowMs: windowMs(a, "window", 60_000), checkpointIntervalMs: 60_000, restart: { kind: "fixed-delay", attempts: 3, delay: 1_000 }, batchSize: 512 },
    feed: { kind: "fixture", paths, lenient, bounds: inputs.bounds },
  });
  if (via !== "sim" && crashEvery > 0) throw new UsageError(`--crash-every works with --via sim only (crashes are placed in the simulator's virtual time)`);
  const tape = tapeFor(spec.feed); // throws FixtureError (exit 2) before anything runs
  if (crashEvery > 0) {
    const faults = crashPlan(tape, crashEvery);
    // Restarts are bounded by the input too: one per planned crash, plus a margin; a job that
    // keeps failing past that ends FAILED (a verdict) instead of restarting forever.
    spec = { ...spec, faults, job: { ...spec.job, restart: { kind: "fixed-delay", attempts: faults.length + 3, delay: 1_000 } } };
  }
  const plan = resumeFlags(a);
  if (plan) spec = durableSpec(spec, a);
  const t0 = performance.now();
  const feedStats: Record<string, number> = {};
  const progress = replayProgress(tape);
  const opts: RunOptions = { ...(plan ? resumeOptions(plan) : {}), onProgress: progress.onProgress };
  let raw: ReturnType<typeof runScenario>;
  try {
    raw = via === "sim" ? startingFrom(plan, () => runScenario(spec, opts)) : await replayOverSockets(spec, tape, via, parsePace(speed), feedStats, opts);
  } finally {
    progress.bar.finish(""); // a failed run must not leave a bar on the terminal
  }
  if (plan) for (const l of startLines(raw.result, plan)) console.error(`flinch replay: ${l}`);
  if (plan?.killAt && raw.unfired.some((f) => f.kind === "kill")) console.error(`flinch replay: --kill-at ${plan.killAt} never fired: the run has ${raw.passages.get("task.process") ?? 0} processing steps`);
  // A planned crash fires at the first task step from its time on; one with no step after it (the
  // job already finished) is said, not dropped silently.
  const missed = raw.unfired.filter((f) => f.kind === "crash").length;
  if (crashEvery > 0 && missed > 0) console.error(`flinch replay: ${missed} of ${spec.faults.filter((f) => f.kind === "crash").length} crashes planned by --crash-every ${crashEvery} never fired: no task step came after their time`);
  // Late trades the engine counted, and that explain the difference from the oracle exactly, are not a violation.
  const verdict = lateAwareChecks(raw.checks, PROPERTIES.oracle, raw.committed, raw.oracle, raw.late);
  const run = { ...raw, checks: verdict.checks, valid: compose(verdict.checks) };
  const wallMs = performance.now() - t0;
  // Every flag that changed the run, so the line replays exactly this run (and writes where this one did).
  const replay = formatReplayLine("replay", [
    ...a.positional, ...(via !== "sim" ? ["--via", via, "--speed", speed] : []), "--backend", backend, "--mode", mode, "--window", str(a, "window") ?? "1m", "--parallelism", String(p), "--seed", seed,
    ...(crashEvery ? ["--crash-every", String(crashEvery)] : []), ...(lenient ? ["--lenient"] : []), ...(a.flags.has("allow-future") ? ["--allow-future"] : []), ...resumeArgs(a), ...(str(a, "out") !== undefined ? ["--out", str(a, "out")!] : []),
  ]);
  const id = runId("replay", path.basename(a.positional[0]).replace(/\..*$/, ""), seed);
  const model = buildRunModel(run, { runId: id, command: "replay", inputs: a.positional, wallMs, replay });
  // What the source's transport repaired (duplicates dropped, gaps backfilled, reconnects): counted, never silent.
  for (const [k, v] of Object.entries(feedStats)) model.counters[`feed.${k}`] = v;
  const reportDir = writeReport(model, outRoot);
  const quarantineFile = writeQuarantine(tape, inputs.quarantine ?? path.join(reportDir, "quarantine.jsonl"));
  const violations = run.checks.filter((c) => c.valid === false);
  const rows = sortRows(run.committed);
  const late: Record<string, { count: number; quantity: string }> = {};
  for (const [s, l] of run.late) late[s] = { count: l.count, quantity: formatFixed(l.quantity) };
  const lateCount = Object.values(late).reduce((x, l) => x + l.count, 0);
  // Where late trades went: into the window operator's late-data totals (exactly-once keyed state), not into any window.
  const lateLine = lateCount === 0 ? "late 0" : `late ${lateCount} (${Object.entries(late).map(([s, l]) => `${s} ${l.count} = ${l.quantity}`).join(", ")}): counted in the window operator's late-data totals, not in any committed window`;
  if (!json) {
    console.log(windowTable(rows));
    console.log(`\n${tapeSummary(tape, a.positional.length, quarantineFile)}`);
    console.log(`${rows.length} windows; ${lateLine}`);
    console.log(`restarts ${run.result.restarts}; checkpoints completed ${run.result.checkpoints.filter((c) => c.status === "completed").length}; trace ${run.result.traceHash}`);
    const paint = painter();
    for (const c of run.checks) console.log(`${paint.mark(c.valid)} ${c.property}: ${c.message}`);
    if (violations.length) console.log(`\nreplay: ${replay}`);
    console.log(`report: ${reportDir}`);
  }
  if (json) {
    console.log(JSON.stringify({
      command: "replay", ...tapeCounts(tape), quarantineFile,
      windows: rows.map((r) => ({ symbol: r.symbol, start: r.start, end: r.end, quantity: formatFixed(r.quantity), count: r.count })),
      late, lateExplained: verdict.explained ? { windowsShort: verdict.explained.windowsShort, count: verdict.explained.count, quantity: formatFixed(verdict.explained.quantity) } : undefined,
      traceHash: run.result.traceHash, violations: violations.length, reportDir, replay,
      startedFrom: run.result.startedFrom?.checkpointId, skippedCheckpoints: run.result.startedFrom?.skipped,
    }));
  }
  return violations.length ? 1 : 0;
}

/**
 * Progress of a long replay in virtual minutes of the tape (a restart may step it back): the
 * scenario runner calls back every few dozen batches, never per trade.
 */
function replayProgress(tape: Tape): { bar: Progress; onProgress: (virtualTime: number) => void } {
  let first = Infinity, last = -Infinity;
  for (const trades of tape.bySymbol.values()) {
    if (!trades.length) continue;
    first = Math.min(first, trades[0].time);
    last = Math.max(last, trades[trades.length - 1].time);
  }
  const minutes = Number.isFinite(first) ? Math.max(1, Math.ceil((last - first) / 60_000)) : 1;
  const bar = startProgress({ label: "replay", total: minutes, unit: "virtual minutes" });
  return { bar, onProgress: (t) => bar.update(Math.min(minutes, Math.max(0, Math.floor((t - first) / 60_000))), 0) };
}

/**
 * The same job with its source on real sockets: `ws` against an exchange server on 127.0.0.1
 * (port 0), `intercept` against the production Binance URLs answered in process.
 */
async function replayOverSockets(spec: ScenarioSpec, tape: Tape, via: "ws" | "intercept", pace: Pace, stats: Record<string, number>, opts: RunOptions) {
  // Loaded here, not at the top: ws and the interceptors cost a simulated replay ~0.3 s of start-up.
  const [{ startExchangeServer }, { interceptBinance }, { BinanceStreamFeed }, { WallClockDriver }, { rangeOf }] = await Promise.all([
    import("../../sim/binance/server/server.ts"),
    import("../../sim/binance/intercept.ts"),
    import("../../engine/connectors/binance/adapters/stream-feed.ts"),
    import("../../engine/runtime/adapters/realtime-driver.ts"),
    import("../../sim/binance/server/realtime-job.ts"),
  ]);
  const range = rangeOf(tape);
  if (via === "ws") {
    const server = await startExchangeServer({ tape, pace, host: "127.0.0.1", port: 0 });
    try {
      const feed = new BinanceStreamFeed({ symbols: tape.symbols, wsBase: server.wsUrl, restBase: server.httpUrl, range });
      const run = await runScenarioRealtime(spec, feed, new WallClockDriver(), opts);
      Object.assign(stats, feed.stats);
      return run;
    } finally {
      await server.close();
    }
  }
  const interception = interceptBinance({ tape, pace });
  try {
    const feed = new BinanceStreamFeed({ symbols: tape.symbols, range });
    const run = await runScenarioRealtime(spec, feed, new WallClockDriver(), opts);
    Object.assign(stats, feed.stats);
    return run;
  } finally {
    interception.dispose();
  }
}
