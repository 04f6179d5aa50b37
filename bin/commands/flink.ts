import * as fs from "node:fs";
import { loadFixtures } from "../../sim/binance/fixtures.ts";
import { generateTape } from "../../sim/binance/generator.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import { flinkChaos, summarize } from "../../scenarios/flink/chaos.ts";
import { compareSides, flinchSide, flinkSide, type WatermarkMode } from "../../scenarios/flink/diff.ts";
import { classpathFor, DEFAULT_JAR, FlinkSetupError, hasTool } from "../../scenarios/flink/jvm.ts";
import { parseFlinkPlan } from "../../scenarios/flink/plan.ts";
import { buildFlinkRunModel } from "../../scenarios/flink/report-model.ts";
import { formatReplayLine } from "../../scenarios/replay-line.ts";
import { writeReport } from "../../reports/write-report.ts";
import { all, int, oneOf, parseArgs, runId, str, UsageError, windowMs } from "../args.ts";
import { outputDir } from "../paths.ts";
import { startProgress } from "../progress.ts";

export const FLINK_USAGE = `flinch flink chaos [FIXTURE...] [--jar J] [--backend hashmap|filesystem|rocksdb] [--mode exactly-once|at-least-once]
                   [--sink file|print] [--parallelism N] [--runs N] [--seed S] [--faults PLAN] [--interval MS] [--throttle-us N] [--buffer-timeout MS] [--barrier-delay MS] [--watermarks bounded|per-event] [--no-shrink] [--first] [--out DIR] [--json]
  flinch flink diff FIXTURE... [--jar J] [--window 1m] [--watermarks bounded|none] [--json]`;

/** `flinch flink chaos|diff`: flinch's faults and checkers on the seed job running on real Apache Flink. */
export async function flinkCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === "chaos") return await chaos(rest);
    if (sub === "diff") return await diff(rest);
  } catch (e) {
    // FlinkSetupError and FaultPlanError are user errors (exitCode 2) from scenarios/, which cannot import bin/args.ts.
    if (!(e instanceof UsageError) && (e as { exitCode?: unknown } | null)?.exitCode === 2) throw new UsageError((e as Error).message);
    throw e;
  }
  throw new UsageError(`flink needs a subcommand: chaos or diff\nusage: ${FLINK_USAGE}`);
}

function classpath(jar: string | undefined): string {
  if (!hasTool("java")) throw new FlinkSetupError("java is not on the PATH: real Flink runs in a JVM (Java 17)");
  return classpathFor(jar ?? DEFAULT_JAR);
}

/** The chaos tape: the fixtures given, else a small generated two-symbol tape fixed by the seed. */
function chaosTape(paths: string[], seed: number): Tape {
  if (paths.length) return loadFixtures(paths);
  return generateTape({ seed: `flink-chaos/${seed}`, symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 4 * 60_000, ratePerSec: 15 });
}

async function chaos(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["jar", "backend", "mode", "sink", "parallelism", "runs", "seed", "faults", "interval", "window", "throttle-us", "buffer-timeout", "barrier-delay", "watermarks", "out"], booleans: ["json", "no-shrink", "first"] });
  for (const p of a.positional) if (!fs.existsSync(p)) throw new UsageError(`${p}: no such file`);
  const backend = oneOf(a, "backend", ["hashmap", "filesystem", "rocksdb"] as const, "filesystem");
  const mode = oneOf(a, "mode", ["exactly-once", "at-least-once"] as const, "exactly-once");
  const sink = oneOf(a, "sink", ["file", "print"] as const, "file");
  const parallelism = int(a, "parallelism", 2, 1);
  const seed = int(a, "seed", 42, 0);
  const plan = str(a, "faults") !== undefined ? parseFlinkPlan(str(a, "faults")!) : undefined;
  // A fixed plan runs once unless --runs asks for more (real Flink's timing differs run to run).
  const runs = int(a, "runs", plan ? 1 : 5, 1);
  const intervalMs = int(a, "interval", 100, 10);
  const win = windowMs(a, "window", 60_000);
  // Spread the tape over a few seconds by default, so checkpoints happen while trades flow.
  const throttleUs = int(a, "throttle-us", 200, 0);
  const barrierDelayMs = int(a, "barrier-delay", 0, 0);
  const watermarks = oneOf(a, "watermarks", ["bounded", "per-event"] as const, "bounded");
  const bufferTimeoutMs = str(a, "buffer-timeout") !== undefined ? int(a, "buffer-timeout", 100, 0) : undefined;
  const json = a.flags.has("json");
  const outRoot = outputDir(str(a, "out") ?? "reports/out", "--out");
  const cp = classpath(str(a, "jar"));
  const tape = chaosTape(a.positional, seed);
  const base = [...a.positional, ...(str(a, "jar") ? ["--jar", str(a, "jar")!] : []), "--backend", backend, "--mode", mode, "--sink", sink, "--parallelism", String(parallelism), "--seed", String(seed), "--interval", String(intervalMs), ...(str(a, "window") ? ["--window", str(a, "window")!] : []), "--throttle-us", String(throttleUs), ...(bufferTimeoutMs !== undefined ? ["--buffer-timeout", String(bufferTimeoutMs)] : []), ...(barrierDelayMs ? ["--barrier-delay", String(barrierDelayMs)] : []), ...(watermarks !== "bounded" ? ["--watermarks", watermarks] : [])];

  const t0 = performance.now(); // real-time: the report's wall figures
  const progress = startProgress({ label: "flink chaos", total: runs });
  let done = 0, found = 0;
  const res = await flinkChaos({
    classpath: cp, tape, seed: String(seed), runs, backend, mode, sink, parallelism, intervalMs, windowMs: win, throttleUs, bufferTimeoutMs, barrierDelayMs, watermarks, plan, shrink: !a.flags.has("no-shrink"), stopAtFirstFailure: a.flags.has("first"),
    onRun: (_i, failed) => progress.update(++done, failed ? ++found : found),
  });
  const s = summarize(res.verdicts);
  const failures = res.failures.map((f) => ({
    seed, run: f.index, property: f.property, message: f.message, faults: f.plan, shrunk: f.shrunk,
    replay: formatReplayLine("flink chaos", [...base, "--faults", f.shrunk.join(",")]),
  }));
  const passed = res.verdicts.length - new Set(res.failures.map((f) => f.index)).size;
  progress.finish(`flink chaos: ${res.verdicts.length}/${runs} runs, ${passed} passed, ${failures.length} violations`);
  const model = buildFlinkRunModel(res, {
    runId: runId("flink-chaos", `${backend}-${mode}-${sink}`, String(seed)), seed: String(seed), tape,
    inputs: a.positional.length ? [...a.positional] : [`generated tape (seed flink-chaos/${seed}, BTCUSDT and ETHUSDT, 4 min at 15 trades/s)`],
    backend, mode, sink, parallelism, intervalMs, windowMs: win, wallMs: performance.now() - t0, // real-time: as above
    replays: failures.map((f) => f.replay),
  });
  const reportDir = writeReport(model, outRoot);
  if (json) {
    console.log(JSON.stringify({
      command: "flink chaos", runs: res.verdicts.length, passed, violations: failures.length, failures,
      faults: s.faults, kills: s.kills, restarts: s.crashes + s.kills, jvms: s.jvms, backend, mode, sink, parallelism, trades: tape.stats.trades, reportDir,
    }));
  } else {
    console.log(`flink chaos: ${res.verdicts.length} runs of the seed job on Apache Flink (${backend}, ${mode}, ${sink} sink, source parallelism ${parallelism}) over ${tape.stats.trades} trades`);
    console.log(`faults fired: ${Object.entries(s.faults).map(([p, n]) => `${p} ${n}`).join(", ") || "none"}; kills ${s.kills}; JVMs ${s.jvms}`);
    console.log(`${passed} passed, ${failures.length} violations`);
    for (const f of failures) {
      console.log(`✘ run ${f.run} [${f.faults.join(",")}] ${f.property}: ${f.message}`);
      console.log(`  replay: ${f.replay}`);
    }
    console.log(`  report: ${reportDir}`);
  }
  return failures.length ? 1 : 0;
}

async function diff(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["jar", "window", "watermarks", "out-of-orderness"], booleans: ["json"] });
  if (a.positional.length === 0) throw new UsageError(`flink diff needs at least one FIXTURE\nusage: ${FLINK_USAGE}`);
  for (const p of a.positional) if (!fs.existsSync(p)) throw new UsageError(`${p}: no such file`);
  const watermarks = oneOf(a, "watermarks", ["bounded", "none"] as const, "bounded") as WatermarkMode;
  const o = { windowMs: windowMs(a, "window", 60_000), watermarks, outOfOrdernessMs: int(a, "out-of-orderness", 2_000, 0) };
  const cp = classpath(str(a, "jar"));
  const tape = loadFixtures(a.positional);
  const ours = flinchSide(tape, o);
  const theirs = await flinkSide(tape, { ...o, classpath: cp });
  const d = compareSides(ours, theirs);
  const same = d.differences.length === 0 && !d.lateDiffers;
  if (a.flags.has("json")) {
    console.log(JSON.stringify({ command: "flink diff", trades: tape.stats.trades, windows: d.windows, identical: same, differences: d.differences, late: d.late, watermarks }));
  } else {
    console.log(`flink diff: ${tape.stats.trades} trades, ${d.windows} windows, watermarks ${watermarks}`);
    for (const x of d.differences.slice(0, 20)) console.log(`✘ ${x.symbol} [${new Date(x.start).toISOString()}): flinch ${x.flinch ? `${x.flinch.quantity}/${x.flinch.count}` : "none"}, Flink ${x.flink ? `${x.flink.quantity}/${x.flink.count}` : "none"}`);
    for (const l of d.late) console.log(`${l.flinch.count === l.flink.count && l.flinch.quantity === l.flink.quantity ? "✔" : "✘"} late ${l.symbol}: flinch ${l.flinch.count} (${l.flinch.quantity}), Flink ${l.flink.count} (${l.flink.quantity})`);
    console.log(same ? `✔ identical: every window's sum and count, and the late records` : `✘ ${d.differences.length} windows differ${d.lateDiffers ? ", late records differ" : ""}\n  replay: ${formatReplayLine("flink diff", [...a.positional, "--watermarks", watermarks, ...all(a, "window").flatMap((w) => ["--window", w])])}`);
  }
  return same ? 0 : 1;
}

