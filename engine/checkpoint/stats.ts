import type { CheckpointFailureReasonKey } from "./failure-reason.ts";
import { CheckpointFailureReason } from "./failure-reason.ts";
import type { PendingCheckpoint } from "./pending-checkpoint.ts";

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
  stateBytes: number;
  failureReason?: string;
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
  private readonly byId = new Map<number, CheckpointStats>();
  readonly restores: RestoreEvent[] = [];
  readonly failures: FailureEvent[] = [];

  triggered(p: PendingCheckpoint): void {
    const s: CheckpointStats = {
      id: p.checkpointId, status: "in_progress", final: p.final, savepoint: p.savepoint, triggerTime: p.triggerTime,
      alignmentMs: 0, syncWallMs: 0, asyncWallMs: 0, acknowledged: 0, total: p.totalTasks, stateBytes: 0,
    };
    this.history.push(s);
    this.byId.set(p.checkpointId, s);
  }

  acknowledged(p: PendingCheckpoint): void {
    const s = this.byId.get(p.checkpointId);
    if (!s) return;
    s.acknowledged = p.acks.size;
    let align = 0, sync = 0, asy = 0, bytes = 0;
    for (const { stats } of p.acks.values()) {
      align = Math.max(align, stats.alignmentMs);
      sync = Math.max(sync, stats.syncWallMs);
      asy = Math.max(asy, stats.asyncWallMs);
      bytes += stats.stateBytes;
    }
    Object.assign(s, { alignmentMs: align, syncWallMs: sync, asyncWallMs: asy, stateBytes: bytes });
  }

  completed(id: number, now: number): void {
    const s = this.byId.get(id);
    if (!s) return;
    s.status = "completed";
    s.endTime = now;
    s.endToEndMs = now - s.triggerTime;
  }

  failed(id: number, now: number, reason: CheckpointFailureReasonKey, detail?: string): void {
    const s = this.byId.get(id);
    if (!s || s.status !== "in_progress") return;
    s.status = "failed";
    s.endTime = now;
    s.endToEndMs = now - s.triggerTime;
    s.failureReason = `${CheckpointFailureReason[reason]}${detail ? ` (${detail})` : ""}`;
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
