import { runProcessChaos, type ProcessChaosFailure } from "../../scenarios/process-chaos.ts";
import { SCENARIOS, type Backend, type Mode } from "../../scenarios/spec.ts";
import { describePlan } from "../../sim/faults/fault-plan.ts";
import { int, type parseArgs } from "../args.ts";

/**
 * `--process`: the job runs in child processes that SIGKILL themselves at the drawn fault
 * points; a fresh process resumes from the checkpoint directory on the real disk. `--backend
 * all` means the durable backends here: memory storage loses its checkpoints in a kill by
 * design, and `--backend memory --process` shows exactly that (exit 1).
 */
export async function processChaos(a: ReturnType<typeof parseArgs>, names: string[], backendFlag: string, modeFlag: Mode | undefined, seed: number, path: string | undefined, json: boolean): Promise<number> {
  const runs = int(a, "runs", 5, 1);
  const maxFaults = int(a, "max-faults", 2, 1);
  const backends: Backend[] = backendFlag === "all" ? ["file", "kv"] : [backendFlag as Backend];
  if (backendFlag === "all" && !json) console.log("--process --backend all: durable backends only (memory checkpoint storage dies with the process by design; see --backend memory --process)");
  let total = 0, passed = 0, kills = 0;
  const failures: (ProcessChaosFailure & { scenario: string })[] = [];
  for (const n of names) {
    if (SCENARIOS[n].expect === "violate") continue;
    for (const backend of backends) {
      const base = SCENARIOS[n].spec;
      const mode = modeFlag ?? base.job.mode;
      const spec = { ...base, job: { ...base.job, backend, mode }, swarm: [] };
      const args = ["--scenario", n, "--backend", backend, "--mode", mode, "--max-faults", String(maxFaults), "--runs", String(runs)];
      const t0 = performance.now();
      const r = await runProcessChaos({ spec, runs, seed, path, maxFaults, args });
      total += r.runs;
      passed += r.passed;
      kills += r.kills;
      if (!json) console.log(`${n} [${backend}, ${mode}, real processes]: ${r.runs} runs, ${r.passed} passed, ${r.kills} SIGKILLs — ${r.failure ? r.failure.outcome.kind.toUpperCase() : "ok"} (${Math.round(performance.now() - t0)} ms)`);
      if (r.failure) {
        failures.push({ ...r.failure, scenario: n });
        if (!json) console.log(`  ✘ ${r.failure.outcome.kind}: ${r.failure.property}: ${r.failure.message}\n    faults: ${describePlan(r.failure.faults)}\n    replay: ${r.failure.replay}`);
      }
    }
  }
  if (json) {
    console.log(JSON.stringify({
      command: "chaos", process: true, runs: total, passed, violations: failures.length, kills,
      failures: failures.map((f) => ({ scenario: f.scenario, seed: f.seed, path: f.path, outcome: f.outcome.kind, property: f.property, message: f.message, replay: f.replay, faults: describePlan(f.faults) })),
    }));
  }
  return failures.length ? 1 : 0;
}
