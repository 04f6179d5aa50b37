import type { StateHandle } from "../state/checkpoint-storage.ts";

/** Per-subtask figures of one checkpoint, as Flink's UI lists them. */
export interface SubtaskCheckpointStats {
  readonly task: string;
  readonly ackTime: number;
  readonly alignmentMs: number;
  readonly syncWallMs: number;
  readonly asyncWallMs: number;
  readonly stateBytes: number;
}

export type AckResult = "ok" | "duplicate" | "unknown" | "discarded";

/**
 * A checkpoint between trigger and completion. Acks return a result instead of throwing:
 * late and duplicate acks are normal under faults. It finalizes only when fully acknowledged
 * and not disposed.
 */
export class PendingCheckpoint {
  private readonly notYetAcked: Set<string>;
  readonly acks = new Map<string, { handle: StateHandle; stats: SubtaskCheckpointStats }>();
  private disposed = false;

  constructor(readonly checkpointId: number, readonly triggerTime: number, readonly final: boolean, readonly savepoint: boolean, tasks: readonly string[]) {
    this.notYetAcked = new Set(tasks);
  }

  get totalTasks(): number {
    return this.notYetAcked.size + this.acks.size;
  }

  acknowledge(task: string, handle: StateHandle, stats: SubtaskCheckpointStats): AckResult {
    if (this.disposed) return "discarded";
    if (this.acks.has(task)) return "duplicate";
    if (!this.notYetAcked.has(task)) return "unknown";
    this.notYetAcked.delete(task);
    this.acks.set(task, { handle, stats });
    return "ok";
  }

  isFullyAcknowledged(): boolean {
    return !this.disposed && this.notYetAcked.size === 0;
  }

  dispose(): void {
    this.disposed = true;
  }

  isDisposed(): boolean {
    return this.disposed;
  }
}
