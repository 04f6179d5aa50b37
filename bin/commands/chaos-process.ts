import { runProcessChaos, type ProcessChaosFailure, type ProcessChaosResult } from "../../scenarios/process-chaos.ts";
import { formatReplayLine } from "../../scenarios/replay-line.ts";
import { buildRunModel } from "../../scenarios/run-model.ts";
import { runScenario, type ScenarioRun } from "../../scenarios/run-scenario.ts";
import { SCENARIOS, type Backend, type Mode, type ScenarioSpec } from "../../scenarios/spec.ts";
import { describePlan } from "../../sim/faults/fault-plan.ts";
import type { RunModel } from "../../reports/model.ts";
import { writeReport } from "../../reports/write-report.ts";
import { int, runId, type parseArgs } from "../args.ts";
import { painter } from "../colour.ts";
import { startProgress } from "../progress.ts";
import { attachMatrix, closingSummary, headlineReport, type ComboReport } from "./chaos-matrix.ts";

/**
 * `--process`: the job runs in child processes that SIGKILL themselves at the drawn fault
 * points; a fresh process resumes from the checkpoint directory on the real disk. `--backend
 * all` means the durable backends here: memory storage loses its checkpoints in a kill by
 * design, and `--backend memory --process` shows exactly that (exit 1). Each combination
 * writes a report (the same run model as in-process chaos), and several show side by side.
 */
export async function processChaos(a: ReturnType<typeof parseArgs>, names: string[], backendFlag: string, modeFlag: Mode | undefined, seed: number, path_: string | undefined, json: boolean, outRoot: string): Promise<number> {
  const runs = int(a, "runs", 5, 1);
  const maxFaults = int(a, "max-faults", 2, 1);
  const backends: Backend[] = backendFlag === "all" ? ["file", "kv"] : [backendFlag as Backend];
  if (backendFlag === "all" && !json) console.log("--process --backend all: durable backends only (memory checkpoint storage dies with the process by design; see --backend memory --process)");
  const paint = painter();
  let total = 0, passed = 0, kills = 0;
  const failures: (ProcessChaosFailure & { scenario: string })[] = [];
  const reports: ComboReport[] = [];
  for (const n of names) {
    if (SCENARIOS[n].expect === "violate") continue;
    for (const backend of backends) {
      const base = SCENARIOS[n].spec;
      const mode = modeFlag ?? base.job.mode;
      const spec = { ...base, job: { ...base.job, backend, mode }, swarm: [] };
      const args = ["--scenario", n, "--backend", backend, "--mode", mode, "--max-faults", String(maxFaults), "--runs", String(runs)];
      const t0 = performance.now();
      // A run is a chain of real processes (seconds each): the bar moves once per run.
      const progress = startProgress({ label: `chaos --process ${n} ${backend}`, total: runs });
      let r: ProcessChaosResult;
      try {
        r = await runProcessChaos({ spec, runs, seed, path: path_, maxFaults, args, onRun: (done, failed) => progress.update(done, failed ? 1 : 0) });
      } finally {
        progress.finish("");
      }
      const wallMs = performance.now() - t0;
      total += r.runs;
      passed += r.passed;
      kills += r.kills;
      const rep = processReport(n, spec, args, r, wallMs, seed, outRoot);
      reports.push({ row: { scenario: n, backend, mode, runs: r.runs, passed: r.passed, findings: r.failure ? 1 : 0 }, ...rep });
      if (!json) console.log(`${n} [${backend}, ${mode}, real processes]: ${r.runs} runs, ${r.passed} passed, ${r.kills} SIGKILLs — ${paint.verdict(r.failure ? r.failure.outcome.kind.toUpperCase() : "ok")} (${Math.round(wallMs)} ms)`);
      if (r.failure) {
        failures.push({ ...r.failure, scenario: n });
        if (!json) console.log(`  ${paint.mark(false)} ${r.failure.outcome.kind}: ${r.failure.property}: ${r.failure.message}\n    faults: ${describePlan(r.failure.faults)}; engine seed ${r.failure.engineSeed}\n    replay: ${r.failure.replay}`);
      }
      if (!json) console.log(`  report: ${rep.dir}`);
    }
  }
  attachMatrix(reports, outRoot);
  if (!json) for (const l of closingSummary(reports)) console.log(l);
  if (json) {
    console.log(JSON.stringify({
      command: "chaos", process: true, runs: total, passed, violations: failures.length, kills,
      failures: failures.map((f) => ({ scenario: f.scenario, seed: f.seed, engineSeed: f.engineSeed, path: f.path, outcome: f.outcome.kind, property: f.property, message: f.message, replay: f.replay, faults: describePlan(f.faults) })),
      reportDir: reports.map((x) => x.dir), reportHtml: headlineReport(reports) ?? null,
    }));
  }
  return failures.length ? 1 : 0;
}

/**
 * The report of one combination, in the run model of in-process chaos. Real processes leave
 * their verdict (the properties checked on the real disk); the windows, checkpoints and
 * timeline come from the same plan and engine seed run in process with simulated kills (the
 * calibration run when nothing failed), and a warning in the report says so.
 */
function processReport(n: string, spec: ScenarioSpec, args: string[], r: ProcessChaosResult, wallMs: number, seed: number, out: string): { dir: string; model: RunModel } {
  const f = r.failure;
  let shown: ScenarioRun = r.calibration;
  if (f) {
    const sim = runScenario({ ...spec, seed: String(f.engineSeed), faults: f.faults });
    shown = f.run ? { ...sim, checks: f.run.checks, valid: f.run.valid } : sim;
  }
  const model = buildRunModel(shown, {
    runId: runId("chaos", `process-${n}-${spec.job.backend}`, String(seed)), command: "chaos", userSeed: String(seed),
    inputs: [formatReplayLine("chaos", ["--process", ...args])], wallMs,
    replay: f?.replay ?? formatReplayLine("chaos", ["--process", ...args, "--seed", String(seed)]),
    violations: f ? [{ property: f.property, message: f.message, seed: String(f.seed), engineSeed: String(f.engineSeed), path: f.path, replay: f.replay, faults: f.faults as unknown[] }] : [],
  });
  model.warnings.unshift(f
    ? `chaos --process: the properties are the verdict of the real processes (${f.run ? `${f.run.processes} processes, ${f.run.kills.length} SIGKILLs` : "a worker crashed"}); windows, checkpoints and timeline are the same plan run in process with simulated kills`
    : `chaos --process: ${r.runs} runs in real processes, ${r.kills} SIGKILLs, all passed; windows, checkpoints and timeline are the calibration run (no faults)`);
  model.counters["process.runs"] = r.runs;
  model.counters["process.kills"] = r.kills;
  model.summary.tradesPerSec = wallMs > 0 ? Math.round((shown.tape.stats.trades * (r.runs + 1) * 1000) / wallMs) : 0;
  return { dir: writeReport(model, out), model };
}

