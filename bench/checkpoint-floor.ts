/**
 * What a checkpoint costs when its parts are taken away, one group at a time and all together:
 * the protocol's floor ("Checkpoint cost: the protocol's floor" in docs/performance.md).
 *
 *   npx tsx bench/checkpoint-floor.ts [rounds=41] [trades per second=73]
 *
 * Parts are replaced by no-ops on the prototypes, so runs with a part taken away commit wrong
 * windows: this is a measurement, never a configuration, and it checks no oracle. Per checkpoint
 * = median over rounds of (wall with 1 s checkpoints − wall without) / checkpoints, the two runs of
 * a round in alternating order (whichever runs second gains from the first's warm-up).
 */
import { generateTape } from "../sim/binance/generator.ts";
import { seedJobThroughput } from "./seed-job.ts";
import { Trace } from "../engine/kernel/trace.ts";
import { JobRunner } from "../engine/runtime/job-runner.ts";
import { HeapKeyedStateBackend } from "../engine/state/heap-keyed-backend.ts";
import { CheckpointStatsTracker } from "../engine/checkpoint/stats.ts";
import { SinkOperator } from "../engine/runtime/sink-operator.ts";
import { listSnapshot } from "../engine/runtime/operator.ts";
import { TimerService } from "../engine/state/timers.ts";

type Part = "state" | "sink" | "records" | "timers";

/** The methods each part's removal replaces, with what replaces them. */
const EMPTY = listSnapshot([]);
const noop = (): void => {};
const removals: Record<Part, [object, string, unknown][]> = {
  state: [[HeapKeyedStateBackend.prototype, "snapshot", () => []]],
  sink: [[SinkOperator.prototype, "snapshotState", () => EMPTY], [SinkOperator.prototype, "notifyCheckpointComplete", noop]],
  records: [
    [CheckpointStatsTracker.prototype, "triggered", noop], [CheckpointStatsTracker.prototype, "acknowledged", noop], [CheckpointStatsTracker.prototype, "completed", noop],
    [Trace.prototype, "event", noop], [JobRunner.prototype, "wallMs", () => 0],
  ],
  timers: [[TimerService.prototype, "snapshot", () => []]],
};
const originals = new Map<object, Map<string, unknown>>();
for (const list of Object.values(removals)) for (const [proto, name] of list) {
  const m = originals.get(proto) ?? new Map<string, unknown>();
  m.set(name, (proto as Record<string, unknown>)[name]);
  originals.set(proto, m);
}

function apply(parts: readonly Part[]): void {
  for (const [proto, m] of originals) for (const [name, f] of m) (proto as Record<string, unknown>)[name] = f;
  for (const p of parts) for (const [proto, name, f] of removals[p]) (proto as Record<string, unknown>)[name] = f;
}

const variants: { label: string; parts: Part[] }[] = [
  { label: "nothing taken away", parts: [] },
  { label: "keyed-state snapshot", parts: ["state"] },
  { label: "sink two-phase commit", parts: ["sink"] },
  { label: "statistics, trace events, wall clock", parts: ["records"] },
  { label: "all of these and the timer snapshot", parts: ["state", "sink", "records", "timers"] },
];

const rounds = Number(process.argv[2] ?? 41);
const rate = Number(process.argv[3] ?? 73);
const tape = generateTape({ seed: "bench", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"], durationMs: 3_600_000, ratePerSec: rate });
const msOf = (r: { tradesPerSec: number }) => (tape.stats.trades / r.tradesPerSec) * 1000;
const diffs = variants.map((): number[] => []);
let checkpoints = 0;
for (let i = 0; i <= rounds; i++) {
  variants.forEach((v, k) => {
    apply(v.parts);
    const first = i % 2 === 0;
    const a = first ? seedJobThroughput(tape, 1, 1000) : seedJobThroughput(tape, 1, undefined);
    const b = first ? seedJobThroughput(tape, 1, undefined) : seedJobThroughput(tape, 1, 1000);
    const [on, off] = first ? [a, b] : [b, a];
    if (v.parts.length === 0) checkpoints = on.checkpoints; // without statistics a run reports none
    if (i > 0) diffs[k].push(msOf(on) - msOf(off)); // round 0 warms up
  });
}
apply([]);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
console.log(`per checkpoint, median of ${rounds} rounds, ${tape.stats.trades} trades, ${checkpoints} checkpoints`);
for (let k = 0; k < variants.length; k++) console.log(`${variants[k].label.padEnd(40)} ${((median(diffs[k]) * 1000) / checkpoints).toFixed(2)} µs`);
