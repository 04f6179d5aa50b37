import { Trace } from "../engine/kernel/trace.ts";
import { JobRunner } from "../engine/runtime/job-runner.ts";
import { HeapKeyedStateBackend } from "../engine/state/heap-keyed-backend.ts";
import { CheckpointStatsTracker } from "../engine/checkpoint/stats.ts";
import { SinkOperator } from "../engine/runtime/sink-operator.ts";
import { listSnapshot } from "../engine/runtime/operator.ts";
import { TimerService } from "../engine/state/timers.ts";

/**
 * Parts of a checkpoint that a measurement can take away by replacing methods with no-ops on the
 * prototypes (bench/checkpoint-floor.ts, bench/checkpoint-presence.ts). A run with a part taken
 * away commits wrong windows: a measurement, never a configuration, and it checks no oracle.
 */
export type Part = "state" | "sink" | "records" | "timers";
export const PARTS: readonly Part[] = ["state", "sink", "records", "timers"];

const EMPTY = listSnapshot([]);
const noop = (): void => {};
/** The methods each part's removal replaces, with what replaces them. */
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

/** Restores every method, then takes `parts` away. */
export function takeAway(parts: readonly Part[]): void {
  for (const [proto, m] of originals) for (const [name, f] of m) (proto as Record<string, unknown>)[name] = f;
  for (const p of parts) for (const [proto, name, f] of removals[p]) (proto as Record<string, unknown>)[name] = f;
}

/** `state,timers` -> its parts; an unknown name is an error. */
export function parseParts(s: string): Part[] {
  const parts = s.split(",").filter((x) => x !== "");
  for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`unknown part ${p}: one of ${PARTS.join(", ")}`);
  return parts as Part[];
}

/** The middle value (the upper one of an even count): the figure both bench tools report over rounds or processes. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}
