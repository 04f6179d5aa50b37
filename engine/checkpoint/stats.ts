import type { CheckpointFailureReasonKey } from "./failure-reason.ts";
import { CheckpointFailureReason } from "./failure-reason.ts";
import { totalTasks, type AbortedCheckpoint, type PendingCheckpoint, type SubtaskCheckpointStats } from "./checkpoint.ts";

/** One row of the checkpoint history (Flink UI's Checkpoints tab). Virtual times in ms. */
export interface CheckpointStats {
  id: number;
  status: "in_progress" | "completed" | "failed";
  final: boolean;
  savepoint: boolean;
  triggerTime: number;
  endTime?: number;
  endToEndMs?: number;
  /** Max over subtasks, virtual time. */
  alignmentMs: number;
  /** Max over subtasks, wall clock (the only figures that are not deterministic). */
  syncWallMs: number;
  asyncWallMs: number;
  acknowledged: number;
  total: number;
  /** Summed over subtasks; undefined when some subtask's state was kept unserialized (JobManager storage). */
  stateBytes: number | undefined;
  /** Prose, for people: the reason's message and the cause. */
  failureReason?: string;
  /** The reason's key (CheckpointFailureReason), for programs. */
  failureReasonKey?: CheckpointFailureReasonKey;
  /** Unaligned: in-flight records persisted as channel state, summed over subtasks. */
  channelStateRecords?: number;
  /** Some subtask took its snapshot unaligned (at once, or after the aligned-checkpoint timeout). */
  unaligned?: boolean;
}

/** A trigger the policy refused before any checkpoint id was drawn (Flink counts these too). */
export interface TriggerRefusal {
  time: number;
  reason: CheckpointFailureReasonKey;
}

export interface RestoreEvent {
  time: number;
  attempt: number;
  checkpointId: number | null;
  skipped: { checkpointId: number; reason: string }[];
}

export interface FailureEvent {
  time: number;
  attempt: number;
  task: string;
  error: string;
  injected: boolean;
}

/** Observes checkpoints; never decides anything. */
export class CheckpointStatsTracker {
  readonly history: CheckpointStats[] = [];
  /** Rows of checkpoints still in progress (the only ones acks and endings update): stays as small as the pending set. */
  private readonly byId = new Map<number, CheckpointStats>();
  readonly restores: RestoreEvent[] = [];
  readonly failures: FailureEvent[] = [];
  readonly refusals: TriggerRefusal[] = [];

  refused(time: number, reason: CheckpointFailureReasonKey): void {
    this.refusals.push({ time, reason });
  }

  triggered(p: PendingCheckpoint): void {
    const s: CheckpointStats = {
      id: p.id, status: "in_progress", final: p.final, savepoint: p.savepoint, triggerTime: p.triggerTime,
      alignmentMs: 0, syncWallMs: 0, asyncWallMs: 0, acknowledged: 0, total: totalTasks(p), stateBytes: 0,
    };
    this.history.push(s);
    this.byId.set(p.id, s);
  }

  /** One more subtask acknowledged with `a`: folded into the row (maxima and sums), not recomputed over every ack. */
  acknowledged(p: PendingCheckpoint, a: SubtaskCheckpointStats): void {
    const s = this.byId.get(p.id);
    if (!s) return;
    s.acknowledged = p.acks.size;
    if (a.alignmentMs > s.alignmentMs) s.alignmentMs = a.alignmentMs;
    if (a.syncWallMs > s.syncWallMs) s.syncWallMs = a.syncWallMs;
    if (a.asyncWallMs > s.asyncWallMs) s.asyncWallMs = a.asyncWallMs;
    s.stateBytes = s.stateBytes === undefined || a.stateBytes === undefined ? undefined : s.stateBytes + a.stateBytes;
    if (a.channelStateRecords) s.channelStateRecords = (s.channelStateRecords ?? 0) + a.channelStateRecords;
    if (a.unaligned) s.unaligned = true;
  }

  completed(id: number, now: number): void {
    const s = this.byId.get(id);
    if (!s) return;
    this.byId.delete(id);
    s.status = "completed";
    s.endTime = now;
    s.endToEndMs = now - s.triggerTime;
  }

  failed(a: AbortedCheckpoint): void {
    const s = this.byId.get(a.id);
    if (!s || s.status !== "in_progress") return;
    this.byId.delete(a.id);
    s.status = "failed";
    s.endTime = a.endTime;
    s.endToEndMs = a.endTime - s.triggerTime;
    s.failureReason = `${CheckpointFailureReason[a.reason]}${a.cause ? ` (${a.cause})` : ""}`;
    s.failureReasonKey = a.reason;
  }

  counts(): { completed: number; failed: number; inProgress: number } {
    let completed = 0, failed = 0, inProgress = 0;
    for (const s of this.history) {
      if (s.status === "completed") completed++;
      else if (s.status === "failed") failed++;
      else inProgress++;
    }
    return { completed, failed, inProgress };
  }
}
