import { FAULT_POINTS } from "../../engine/checkpoint/faults.ts";
import { runChaos, describePlan, type ChaosResult } from "../../scenarios/chaos.ts";
import { buildRunModel } from "../../scenarios/run-model.ts";
import { SCENARIOS, type Backend, type Mode, type ScenarioSpec } from "../../scenarios/spec.ts";
import { writeReport } from "../../reports/write-report.ts";
import { int, oneOf, parseArgs, runId, str, UsageError } from "../args.ts";

export const CHAOS_USAGE = `flinch chaos [--scenario NAME|all] [--backend memory|file|all] [--mode exactly-once|at-least-once]
             [--runs N] [--seed S] [--path P] [--max-faults N] [--out DIR] [--json]`;

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
  if (a.flags.has("process")) throw new UsageError("--process (real process kills) is not available in this build");
  const names = str(a, "scenario") ?? "exactly-once";
  const scenarioNames = names === "all" ? Object.keys(SCENARIOS) : names.split(",");
  for (const n of scenarioNames) if (!SCENARIOS[n]) throw new UsageError(`--scenario: unknown scenario ${JSON.stringify(n)}; known: ${Object.keys(SCENARIOS).join(", ")}, all`);
  const backendFlag = oneOf(a, "backend", ["memory", "file", "all"] as const, "memory");
  const backends: Backend[] = backendFlag === "all" ? ["memory", "file"] : [backendFlag];
  const modeFlag = str(a, "mode") as Mode | undefined;
  if (modeFlag !== undefined && modeFlag !== "exactly-once" && modeFlag !== "at-least-once") throw new UsageError(`--mode: expected exactly-once|at-least-once, got ${JSON.stringify(modeFlag)}`);
  const runs = int(a, "runs", 100, 1);
  const seed = int(a, "seed", 42, 0);
  const path = str(a, "path");
  const maxFaults = int(a, "max-faults", 3, 1);
  const json = a.flags.has("json");
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
    const dir = writeReport(model, str(a, "out") ?? "reports/out");
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
