import { checkpointCost } from "./checkpoint-size.ts";
import { benchKvSpill } from "./kv-backend.ts";
import { benchTape, handLoopThroughput, seedJobThroughput } from "./seed-job.ts";

/**
 * One workload of the bench on its own, for `node --cpu-prof --import tsx bench/profile.ts WHAT`:
 * p1 | p4 | cp1s (parallelism 1, 1 s checkpoints) | cp1m (checkpoint of 1 M keyed entries) | kvspill.
 * Prints the figure so a profile can be matched to the throughput it was taken at.
 */
const what = process.argv[2] ?? "p1";
const reps = Number(process.argv[3] ?? 3);
if (what === "p1" || what === "p4" || what === "cp1s") {
  const t = benchTape();
  const hand = handLoopThroughput(t);
  for (let i = 0; i < reps; i++) {
    const r = seedJobThroughput(t, what === "p4" ? 4 : 1, what === "cp1s" ? 1_000 : undefined);
    console.log(what, Math.round(r.tradesPerSec), "trades/s", r.checkpoints, "checkpoints", "ratio", (r.tradesPerSec / hand.tradesPerSec).toFixed(3));
  }
} else if (what === "cp1m") {
  checkpointCost(10_000);
  const r = checkpointCost(1_000_000);
  console.log(what, r);
} else if (what === "kvspill") {
  console.log(what, benchKvSpill());
} else throw new Error(`unknown workload ${what}`);
