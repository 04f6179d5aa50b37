import { CheckpointFailureReason, countsAsCheckpointFailure, type CheckpointFailureReasonKey } from "./failure-reason.ts";

export class CheckpointFailureThresholdError extends Error {
  override readonly name = "CheckpointFailureThresholdError";
  constructor(readonly checkpointId: number, readonly reason: CheckpointFailureReasonKey, tolerable: number) {
    super(`Exceeded checkpoint tolerable failure threshold (${tolerable}): checkpoint ${checkpointId} failed: ${CheckpointFailureReason[reason]}`);
  }
}

/**
 * Flink's CheckpointFailureManager: counts consecutive checkpoint failures whose reason counts,
 * each checkpoint at most once, and only checkpoints newer than the last success (an old one
 * failing after a newer one completed says nothing about the job now). Savepoints never count.
 */
export class FailureManager {
  private consecutive = 0;
  private lastSucceeded = 0;
  private readonly counted = new Set<number>();

  constructor(private readonly tolerable: number) {}

  get consecutiveFailures(): number {
    return this.consecutive;
  }

  onSuccess(checkpointId: number): void {
    if (checkpointId <= this.lastSucceeded) return;
    this.lastSucceeded = checkpointId;
    this.consecutive = 0;
    if (this.counted.size > 0) this.counted.clear(); // clearing an empty set still allocates a new table
  }

  /** A checkpoint failed: returns the error to fail the job with when the threshold is exceeded. */
  onFailure(checkpointId: number, reason: CheckpointFailureReasonKey, savepoint: boolean): CheckpointFailureThresholdError | undefined {
    if (savepoint || !countsAsCheckpointFailure(reason) || checkpointId <= this.lastSucceeded) return undefined;
    if (this.counted.has(checkpointId)) return undefined;
    this.counted.add(checkpointId);
    if (++this.consecutive <= this.tolerable) return undefined;
    this.consecutive = 0;
    this.counted.clear();
    return new CheckpointFailureThresholdError(checkpointId, reason, this.tolerable);
  }
}
