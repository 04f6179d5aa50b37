import { runChaosPool } from "../scenarios/chaos-pool.ts";
import { SCENARIOS } from "../scenarios/spec.ts";

/**
 * Runs/s of plain `flinch chaos` (the swarm scenario) on 1 and on 2 worker threads: the rate at
 * which chaos explores schedules, which is what finds bugs. Thread start-up (loading the
 * modules, calibration) is included, as a user pays it. Every run counts, whatever its outcome.
 */
export async function chaosRunsPerSec(runs = 120, seed = 1): Promise<{ workers1: number; workers2: number; runs: number }> {
  const o = { spec: SCENARIOS.swarm.spec, runs, seed, args: [], shrink: false, stopOnFailure: false };
  const rate = async (workers: number) => {
    const t0 = performance.now();
    const r = await runChaosPool(o, { workers });
    return (r.runs * 1000) / (performance.now() - t0);
  };
  await runChaosPool({ ...o, runs: 5 }, { workers: 1 }); // warm-up (JIT, tape)
  return { workers1: await rate(1), workers2: await rate(2), runs };
}

if (process.argv[1]?.endsWith("bench/chaos.ts")) {
  const r = await chaosRunsPerSec(Number(process.argv[2] ?? 120));
  console.log(`flinch chaos (swarm): ${r.workers1.toFixed(1)} runs/s on 1 worker, ${r.workers2.toFixed(1)} runs/s on 2 (${r.runs} runs each)`);
}
