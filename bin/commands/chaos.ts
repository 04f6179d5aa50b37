import { FAULT_POINTS } from "../../engine/checkpoint/faults.ts";
import { runChaos, describePlan, type ChaosResult } from "../../scenarios/chaos.ts";
import { runProcessChaos } from "../../scenarios/process-chaos.ts";
import { buildRunModel } from "../../scenarios/run-model.ts";
import { SCENARIOS, type Backend, type Mode, type ScenarioSpec } from "../../scenarios/spec.ts";
import { writeReport } from "../../reports/write-report.ts";
import { int, oneOf, parseArgs, runId, seed as seedFlag, str, UsageError } from "../args.ts";
import { HELP } from "../help.ts";
import { outputDir } from "../paths.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const CHAOS_USAGE = HELP.chaos.usage;

interface Combo {
  name: string;
  spec: ScenarioSpec;
  command: string;
}

/**
 * Property-based chaos: each run crashes the job at fault points drawn by fast-check, and a
 * failure is shrunk to a minimal fault plan with the exact command that replays it.
 */
export async function chaosCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["scenario", "backend", "mode", "runs", "seed", "path", "max-faults", "out"], booleans: ["json", "process"] });
  if (a.positional.length) throw new UsageError(`chaos takes no positional arguments (got ${a.positional.join(" ")})\nusage: ${CHAOS_USAGE}`);
  const names = str(a, "scenario") ?? "exactly-once";
  const scenarioNames = names === "all" ? Object.keys(SCENARIOS) : names.split(",");
  for (const n of scenarioNames) if (!SCENARIOS[n]) throw new UsageError(`--scenario: unknown scenario ${JSON.stringify(n)}; known: ${Object.keys(SCENARIOS).join(", ")}, all`);
  const backendFlag = oneOf(a, "backend", ["memory", "file", "kv", "all"] as const, "memory");
  const backends: Backend[] = backendFlag === "all" ? ["memory", "file", "kv"] : [backendFlag];
  const modeFlag = str(a, "mode") as Mode | undefined;
  if (modeFlag !== undefined && modeFlag !== "exactly-once" && modeFlag !== "at-least-once") throw new UsageError(`--mode: expected exactly-once|at-least-once, got ${JSON.stringify(modeFlag)}`);
  const runs = int(a, "runs", 100, 1);
  const seed = seedFlag(a, 42);
  const path = str(a, "path");
  const maxFaults = int(a, "max-faults", 3, 1);
  const json = a.flags.has("json");
  const outRoot = outputDir(str(a, "out") ?? "reports/out", "--out");
  if (a.flags.has("process")) return processChaos(a, scenarioNames, backendFlag, modeFlag, seed, path, json);
  if (path !== undefined && (scenarioNames.length > 1 || backends.length > 1)) throw new UsageError("--path replays one failure: give one --scenario and one --backend");

  const combos: Combo[] = [];
  for (const n of scenarioNames) {
    for (const backend of backends) {
      const base = SCENARIOS[n].spec;
      const mode = modeFlag ?? base.job.mode;
      combos.push({
        name: n,
        spec: { ...base, job: { ...base.job, backend, mode } },
        command: `flinch chaos --scenario ${n} --backend ${backend} --mode ${mode} --max-faults ${maxFaults} --runs ${runs}`,
      });
    }
  }

  let totalRuns = 0, passed = 0, restarts = 0, completed = 0, aborted = 0;
  const faults: Record<string, number> = Object.fromEntries(FAULT_POINTS.map((p) => [p, 0]));
  const failures: { seed: number; path: string; property: string; replay: string; scenario: string; faults: string; message: string }[] = [];
  const hashes: string[] = [];
  const reportDirs: string[] = [];
  for (const c of combos) {
    const t0 = performance.now();
    const r: ChaosResult = runChaos({ spec: c.spec, runs, seed, path, maxFaults, command: c.command });
    const wallMs = performance.now() - t0;
    totalRuns += r.runs;
    passed += r.passed;
    restarts += r.restarts;
    completed += r.checkpoints.completed;
    aborted += r.checkpoints.aborted;
    hashes.push(r.traceHash);
    for (const [p, n] of Object.entries(r.faultsFired)) faults[p] = (faults[p] ?? 0) + n;
    for (const f of r.failures) failures.push({ seed: f.seed, path: f.path, property: f.property, replay: f.replay, scenario: c.name, faults: describePlan(f.faults), message: f.message });
    const shown = r.failures[0]?.run ?? r.sample!;
    const model = buildRunModel(shown, {
      runId: runId("chaos", `${c.name}-${c.spec.job.backend}`, String(seed)), command: "chaos", inputs: [c.command], wallMs,
      replay: r.failures[0]?.replay ?? `${c.command} --seed ${seed}`,
      violations: r.failures.map((f) => ({ property: f.property, message: f.message, seed: String(f.seed), path: f.path, replay: f.replay, faults: f.faults as unknown[] })),
      chaos: r,
    });
    model.summary.trades = shown.tape.stats.trades;
    // Throughput over every run of the campaign (calibration included), not one run over the whole wall time.
    model.summary.tradesPerSec = wallMs > 0 ? Math.round((shown.tape.stats.trades * (r.runs + 1) * 1000) / wallMs) : 0;
    const dir = writeReport(model, outRoot);
    reportDirs.push(dir);
    if (!json) {
      const verdict = r.failures.length ? "VIOLATION" : "ok";
      console.log(`${c.name} [${c.spec.job.backend}, ${c.spec.job.mode}]: ${r.runs} runs, ${r.passed} passed, ${r.restarts} restarts, checkpoints ${r.checkpoints.completed} completed / ${r.checkpoints.aborted} aborted — ${verdict} (${Math.round(wallMs)} ms)`);
      for (const f of r.failures) {
        console.log(`  ✘ ${f.property}: ${f.message}`);
        console.log(`    shrunk counterexample (${f.numShrinks} shrinks): ${describePlan(f.faults)}, engine seed ${f.engineSeed}`);
        console.log(`    replay: ${f.replay}`);
      }
      console.log(`  report: ${dir}`);
    }
  }
  const traceHash = hashes.length === 1 ? hashes[0] : (await import("node:crypto")).createHash("sha256").update(hashes.join("\n")).digest("hex");
  if (json) {
    console.log(JSON.stringify({
      command: "chaos", runs: totalRuns, passed, violations: failures.length,
      failures: failures.map((f) => ({ seed: f.seed, path: f.path, property: f.property, replay: f.replay, scenario: f.scenario, faults: f.faults })),
      faults, restarts, checkpoints: { completed, aborted }, traceHash, reportDir: reportDirs.length === 1 ? reportDirs[0] : reportDirs,
    }));
  }
  return failures.length ? 1 : 0;
}

/**
 * `--process`: the job runs in child processes that SIGKILL themselves at the drawn fault
 * points; a fresh process resumes from the checkpoint directory on the real disk. `--backend
 * all` means the durable backends here: memory storage loses its checkpoints in a kill by
 * design, and `--backend memory --process` shows exactly that (exit 1).
 */
async function processChaos(a: ReturnType<typeof parseArgs>, names: string[], backendFlag: string, modeFlag: Mode | undefined, seed: number, path: string | undefined, json: boolean): Promise<number> {
  const runs = int(a, "runs", 5, 1);
  const maxFaults = int(a, "max-faults", 2, 1);
  const backends: Backend[] = backendFlag === "all" ? ["file", "kv"] : [backendFlag as Backend];
  if (backendFlag === "all" && !json) console.log("--process --backend all: durable backends only (memory checkpoint storage dies with the process by design; see --backend memory --process)");
  let total = 0, passed = 0, kills = 0;
  const failures: { seed: number; path: string; property: string; replay: string; scenario: string; faults: string }[] = [];
  for (const n of names) {
    if (SCENARIOS[n].expect === "violate") continue;
    for (const backend of backends) {
      const base = SCENARIOS[n].spec;
      const mode = modeFlag ?? base.job.mode;
      const spec = { ...base, job: { ...base.job, backend, mode } };
      const command = `flinch chaos --process --scenario ${n} --backend ${backend} --mode ${mode} --max-faults ${maxFaults} --runs ${runs}`;
      const t0 = performance.now();
      const r = await runProcessChaos({ spec, runs, seed, path, maxFaults, command });
      total += r.runs;
      passed += r.passed;
      kills += r.kills;
      if (!json) console.log(`${n} [${backend}, ${mode}, real processes]: ${r.runs} runs, ${r.passed} passed, ${r.kills} SIGKILLs — ${r.failure ? "VIOLATION" : "ok"} (${Math.round(performance.now() - t0)} ms)`);
      if (r.failure) {
        failures.push({ seed, path: r.failure.path, property: r.failure.property, replay: r.failure.replay, scenario: n, faults: describePlan(r.failure.faults) });
        if (!json) console.log(`  ✘ ${r.failure.property}: ${r.failure.message}\n    faults: ${describePlan(r.failure.faults)}\n    replay: ${r.failure.replay}`);
      }
    }
  }
  if (json) console.log(JSON.stringify({ command: "chaos", process: true, runs: total, passed, violations: failures.length, failures, kills }));
  return failures.length ? 1 : 0;
}
