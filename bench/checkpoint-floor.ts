/**
 * What a checkpoint costs when its parts are taken away, one group at a time and all together:
 * the protocol's floor ("Checkpoint cost: the protocol's floor" in docs/performance.md).
 *
 *   npx tsx bench/checkpoint-floor.ts [rounds=41] [trades per second=73]
 *
 * Parts are taken away as bench/ablation.ts does (a run without a part commits wrong windows).
 * Per checkpoint = median over rounds of (wall with 1 s checkpoints − wall without) / checkpoints,
 * the two runs of a round in alternating order (whichever runs second gains from the first's
 * warm-up).
 */
import { benchTape, seedJobThroughput } from "./seed-job.ts";
import { median, takeAway, type Part } from "./ablation.ts";

const variants: { label: string; parts: Part[] }[] = [
  { label: "nothing taken away", parts: [] },
  { label: "keyed-state snapshot", parts: ["state"] },
  { label: "sink two-phase commit", parts: ["sink"] },
  { label: "statistics, trace events, wall clock", parts: ["records"] },
  { label: "all of these and the timer snapshot", parts: ["state", "sink", "records", "timers"] },
];

const rounds = Number(process.argv[2] ?? 41);
const rate = Number(process.argv[3] ?? 73);
const tape = benchTape(rate);
const msOf = (r: { tradesPerSec: number }) => (tape.stats.trades / r.tradesPerSec) * 1000;
const diffs = variants.map((): number[] => []);
let checkpoints = 0;
for (let i = 0; i <= rounds; i++) {
  variants.forEach((v, k) => {
    takeAway(v.parts);
    const first = i % 2 === 0;
    const a = first ? seedJobThroughput(tape, 1, 1000) : seedJobThroughput(tape, 1, undefined);
    const b = first ? seedJobThroughput(tape, 1, undefined) : seedJobThroughput(tape, 1, 1000);
    const [on, off] = first ? [a, b] : [b, a];
    if (v.parts.length === 0) checkpoints = on.checkpoints; // without statistics a run reports none
    if (i > 0) diffs[k].push(msOf(on) - msOf(off)); // round 0 warms up
  });
}
takeAway([]);
console.log(`per checkpoint, median of ${rounds} rounds, ${tape.stats.trades} trades, ${checkpoints} checkpoints`);
for (let k = 0; k < variants.length; k++) console.log(`${variants[k].label.padEnd(40)} ${((median(diffs[k]) * 1000) / checkpoints).toFixed(2)} µs`);
