import type { StateHandle } from "../state/checkpoint-storage.ts";
import type { CheckpointFailureReasonKey } from "./failure-reason.ts";

/** Per-subtask figures of one checkpoint, as Flink's UI lists them. */
export interface SubtaskCheckpointStats {
  readonly task: string;
  readonly ackTime: number;
  readonly alignmentMs: number;
  readonly syncWallMs: number;
  readonly asyncWallMs: number;
  /** Absent: the storage kept the snapshot unserialized (JobManagerCheckpointStorage), so there is no byte count. */
  readonly stateBytes?: number;
  /** Records persisted as in-flight channel state (unaligned checkpoints). */
  readonly channelStateRecords?: number;
  readonly unaligned?: boolean;
}

/** What a checkpoint is, fixed at trigger time (Flink's CheckpointProperties, the parts that apply). */
export interface CheckpointProps {
  readonly id: number;
  readonly triggerTime: number;
  /** Taken after every source reached its end (FLIP-147): its notification lets tasks finish. */
  readonly final: boolean;
  /** Written to its own storage, self-contained (never a delta), never subsumed or retired. */
  readonly savepoint: boolean;
}

export type Ack = { readonly handle: StateHandle; readonly stats: SubtaskCheckpointStats };

/**
 * A checkpoint's life, as a value: pending until every task acknowledged, then completed (its
 * metadata written: the commit point) or aborted with the reason (Flink's CheckpointFailureReason
 * key, which statistics and the failure manager read) and the cause's message.
 */
export type Checkpoint =
  | (CheckpointProps & { readonly status: "pending"; readonly tasks: TaskIndex; readonly acks: (Ack | undefined)[]; waiting: number })
  | (CheckpointProps & { readonly status: "completed"; readonly endTime: number; readonly parents: readonly number[] })
  | (CheckpointProps & { readonly status: "aborted"; readonly endTime: number; readonly reason: CheckpointFailureReasonKey; readonly cause?: string });

export type PendingCheckpoint = Checkpoint & { readonly status: "pending" };
export type CompletedCheckpoint = Checkpoint & { readonly status: "completed" };
export type AbortedCheckpoint = Checkpoint & { readonly status: "aborted" };

/** What an acknowledgement did; late and duplicate acks are normal under faults, so nothing throws. */
export type AckResult = "ok" | "duplicate" | "unknown";

/**
 * The tasks that must acknowledge, with each one's position: made once per deployment and shared
 * by every pending checkpoint of it, whose acks are then an array by position (no Set and Map per
 * checkpoint, which emptied and shrank at every completion).
 */
export interface TaskIndex {
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** Positions in the order of the names (the metadata lists handles by task name). */
  readonly byName: readonly number[];
}

export function taskIndex(names: readonly string[]): TaskIndex {
  const index = new Map(names.map((n, i) => [n, i]));
  // Two tasks of one name could not both acknowledge: the checkpoint would wait for ever.
  if (index.size !== names.length) throw new Error(`internal: task names are not unique: ${names.filter((n, i) => names.indexOf(n) !== i).join(", ")}`);
  const byName = names.map((_, i) => i).sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
  return { names, index, byName };
}

export function pendingCheckpoint(props: CheckpointProps, tasks: readonly string[] | TaskIndex): PendingCheckpoint {
  const t = "index" in tasks ? tasks : taskIndex(tasks);
  return { id: props.id, triggerTime: props.triggerTime, final: props.final, savepoint: props.savepoint, status: "pending", tasks: t, acks: new Array<Ack | undefined>(t.names.length), waiting: t.names.length };
}

export function acknowledge(p: PendingCheckpoint, task: string, ack: Ack): AckResult {
  const i = p.tasks.index.get(task);
  if (i === undefined) return "unknown";
  if (p.acks[i] !== undefined) return "duplicate";
  p.acks[i] = ack;
  p.waiting--;
  return "ok";
}

export function isFullyAcknowledged(p: PendingCheckpoint): boolean {
  return p.waiting === 0;
}

/** `task` must still acknowledge `p`. */
export function isWaitingFor(p: PendingCheckpoint, task: string): boolean {
  const i = p.tasks.index.get(task);
  return i !== undefined && p.acks[i] === undefined;
}

export function totalTasks(p: PendingCheckpoint): number {
  return p.tasks.names.length;
}

export function acknowledgedCount(p: PendingCheckpoint): number {
  return p.tasks.names.length - p.waiting;
}

/** The checkpoints the handles of `p` are deltas against (incremental chains). */
export function parentsOf(handles: Iterable<StateHandle>): number[] {
  let s: Set<number> | undefined;
  for (const h of handles) if (h.parent !== undefined) (s ??= new Set()).add(h.parent);
  return s === undefined ? NO_PARENTS : [...s].sort((a, b) => a - b);
}

/** Shared by every checkpoint without parents (all but incremental ones); never mutated. */
const NO_PARENTS: number[] = Object.freeze([]) as unknown as number[];

/** `handles`: the acks' handles when the caller has them already (the coordinator sorted them for the metadata). */
export function complete(p: PendingCheckpoint, endTime: number, handles?: readonly StateHandle[]): CompletedCheckpoint {
  return { id: p.id, triggerTime: p.triggerTime, final: p.final, savepoint: p.savepoint, status: "completed", endTime, parents: parentsOf(handles ?? p.acks.flatMap((a) => (a ? [a.handle] : []))) };
}

export function abort(p: PendingCheckpoint, endTime: number, reason: CheckpointFailureReasonKey, cause?: string): AbortedCheckpoint {
  return { id: p.id, triggerTime: p.triggerTime, final: p.final, savepoint: p.savepoint, status: "aborted", endTime, reason, ...(cause !== undefined ? { cause } : {}) };
}
