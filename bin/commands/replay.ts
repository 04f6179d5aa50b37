import * as fs from "node:fs";
import * as path from "node:path";
import { formatFixed } from "../../engine/decimal.ts";
import type { Fault } from "../../sim/faults/fault-plan.ts";
import { runScenario, runScenarioRealtime, tapeFor } from "../../scenarios/run-scenario.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import { startExchangeServer } from "../../sim/binance/server/server.ts";
import { rangeOf } from "../../sim/binance/server/realtime-job.ts";
import { interceptBinance } from "../../sim/binance/intercept.ts";
import type { Pace } from "../../sim/binance/server/exchange.ts";
import { BinanceStreamFeed } from "../../engine/connectors/binance/adapters/stream-feed.ts";
import { WallClockDriver } from "../../engine/runtime/adapters/realtime-driver.ts";
import { parsePace } from "./serve.ts";
import { buildRunModel } from "../../scenarios/run-model.ts";
import { scenario, type ScenarioSpec } from "../../scenarios/spec.ts";
import { writeReport } from "../../reports/write-report.ts";
import { int, oneOf, parseArgs, runId, seed as seedFlag, str, UsageError, windowMs } from "../args.ts";
import { HELP } from "../help.ts";
import { inputFile, outputDir } from "../paths.ts";
import { sortRows, windowTable } from "../output.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const REPLAY_USAGE = HELP.replay.usage;

/** Replays recorded trades through the seed job and checks the committed windows against the oracle. */
export async function replayCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["backend", "mode", "window", "via", "speed", "crash-every", "parallelism", "seed", "out"], booleans: ["json", "lenient"] });
  if (a.positional.length === 0) throw new UsageError(`replay needs at least one FIXTURE\nusage: ${REPLAY_USAGE}`);
  for (const p of a.positional) inputFile(p);
  const outRoot = outputDir(str(a, "out") ?? "reports/out", "--out");
  const backend = oneOf(a, "backend", ["memory", "file"] as const, "memory");
  const mode = oneOf(a, "mode", ["exactly-once", "at-least-once"] as const, "exactly-once");
  const via = oneOf(a, "via", ["sim", "ws", "intercept"] as const, "sim");
  const speed = str(a, "speed") ?? "max";
  parsePace(speed);
  const p = int(a, "parallelism", 1, 1);
  const crashEvery = int(a, "crash-every", 0, 1);
  const seed = String(seedFlag(a, 1));
  const lenient = a.flags.has("lenient");
  const json = a.flags.has("json");
  const paths = a.positional.map((x) => path.resolve(x));

  let spec: ScenarioSpec = scenario({
    name: "replay",
    description: `replay of ${a.positional.join(", ")}`,
    seed,
    job: { backend, mode, sourceParallelism: p, windowParallelism: p, windowMs: windowMs(a, "window", 60_000), checkpointIntervalMs: 60_000, restart: { kind: "fixed-delay", attempts: Number.MAX_SAFE_INTEGER, delay: 1_000 }, batchSize: 512 },
    feed: { kind: "fixture", paths, lenient },
  });
  const tape = tapeFor(spec.feed); // throws FixtureError (exit 2) before anything runs
  if (crashEvery > 0) {
    const calib = runScenario(spec);
    const n = calib.passages.get("task.process") ?? 0;
    const faults: Fault[] = [];
    for (let k = crashEvery; k <= n; k += crashEvery) faults.push({ kind: "crash", point: "task.process", occurrence: k });
    spec = { ...spec, faults };
  }
  if (via !== "sim" && crashEvery > 0) throw new UsageError(`--crash-every works with --via sim only (crashes are placed by occurrence, which real sockets do not repeat)`);
  const t0 = performance.now();
  const feedStats: Record<string, number> = {};
  const run = via === "sim" ? runScenario(spec) : await replayOverSockets(spec, tape, via, parsePace(speed), feedStats);
  const wallMs = performance.now() - t0;
  const replay = `flinch replay ${a.positional.join(" ")}${via !== "sim" ? ` --via ${via} --speed ${speed}` : ""} --backend ${backend} --mode ${mode} --window ${str(a, "window") ?? "1m"} --parallelism ${p} --seed ${seed}${crashEvery ? ` --crash-every ${crashEvery}` : ""}${lenient ? " --lenient" : ""}`;
  const id = runId("replay", path.basename(a.positional[0]).replace(/\..*$/, ""), seed);
  const model = buildRunModel(run, { runId: id, command: "replay", inputs: a.positional, wallMs, replay });
  // What the source's transport repaired (duplicates dropped, gaps backfilled, reconnects): counted, never silent.
  for (const [k, v] of Object.entries(feedStats)) model.counters[`feed.${k}`] = v;
  const reportDir = writeReport(model, outRoot);
  if (tape.stats.quarantined.length) {
    fs.writeFileSync(path.join(reportDir, "quarantine.jsonl"), tape.stats.quarantined.map((q) => JSON.stringify(q)).join("\n") + "\n");
  }
  const violations = run.checks.filter((c) => c.valid === false);
  const rows = sortRows(run.committed);
  const late: Record<string, { count: number; quantity: string }> = {};
  for (const [s, l] of run.late) late[s] = { count: l.count, quantity: formatFixed(l.quantity) };
  if (!json) {
    console.log(windowTable(rows));
    console.log(`\n${tape.stats.trades} trades from ${a.positional.length} file(s); ${rows.length} windows; late ${Object.values(late).reduce((x, l) => x + l.count, 0)}; skipped ${JSON.stringify(tape.stats.skipped)}; duplicates ${tape.stats.duplicates}; gaps ${tape.stats.gaps.length}; quarantined ${tape.stats.quarantined.length}${tape.stats.quarantined.length ? ` (see ${path.join(reportDir, "quarantine.jsonl")})` : ""}`);
    console.log(`restarts ${run.result.restarts}; checkpoints completed ${run.result.checkpoints.filter((c) => c.status === "completed").length}; trace ${run.result.traceHash}`);
    for (const c of run.checks) console.log(`${c.valid === true ? "✔" : c.valid === false ? "✘" : "?"} ${c.property}: ${c.message}`);
    if (violations.length) console.log(`\nreplay: ${replay}`);
    console.log(`report: ${reportDir}`);
  }
  if (json) {
    console.log(JSON.stringify({
      command: "replay", trades: tape.stats.trades,
      windows: rows.map((r) => ({ symbol: r.symbol, start: r.start, end: r.end, quantity: formatFixed(r.quantity), count: r.count })),
      late, traceHash: run.result.traceHash, violations: violations.length, reportDir,
      skipped: tape.stats.skipped, duplicates: tape.stats.duplicates, gaps: tape.stats.gaps.length, quarantined: tape.stats.quarantined.length,
    }));
  }
  return violations.length ? 1 : 0;
}

/**
 * The same job with its source on real sockets: `ws` against an exchange server on 127.0.0.1
 * (port 0), `intercept` against the production Binance URLs answered in process.
 */
async function replayOverSockets(spec: ScenarioSpec, tape: Tape, via: "ws" | "intercept", pace: Pace, stats: Record<string, number>) {
  const range = rangeOf(tape);
  if (via === "ws") {
    const server = await startExchangeServer({ tape, pace, host: "127.0.0.1", port: 0 });
    try {
      const feed = new BinanceStreamFeed({ symbols: tape.symbols, wsBase: server.wsUrl, restBase: server.httpUrl, range });
      const run = await runScenarioRealtime(spec, feed, new WallClockDriver());
      Object.assign(stats, feed.stats);
      return run;
    } finally {
      await server.close();
    }
  }
  const interception = interceptBinance({ tape, pace });
  try {
    const feed = new BinanceStreamFeed({ symbols: tape.symbols, range });
    const run = await runScenarioRealtime(spec, feed, new WallClockDriver());
    Object.assign(stats, feed.stats);
    return run;
  } finally {
    interception.dispose();
  }
}
