import { ChaosCampaign } from "../scenarios/chaos.ts";
import { SCENARIOS } from "../scenarios/spec.ts";

/**
 * Plain `flinch chaos` in this thread, for `node --cpu-prof --import tsx bench/profile-chaos.ts [RUNS]`:
 * the swarm campaign's runs (calibration and module loading included, as a user pays them).
 * Prints runs/s and the campaign's trace hash, so a profile can be matched to what it ran.
 */
const runs = Number(process.argv[2] ?? 300);
const t0 = performance.now();
const c = new ChaosCampaign({ spec: SCENARIOS.swarm.spec, runs, seed: 1, args: [], shrink: false, stopOnFailure: false });
const t1 = performance.now();
for (let i = 0; i < runs; i++) c.step(i);
const t2 = performance.now();
const r = c.result();
console.log(`chaos: ${runs} runs, ${((runs * 1000) / (t2 - t1)).toFixed(1)} runs/s after a calibration of ${(t1 - t0).toFixed(0)} ms; outcomes ${JSON.stringify(r.outcomes)}; traceHash ${r.traceHash.slice(0, 12)}`);
