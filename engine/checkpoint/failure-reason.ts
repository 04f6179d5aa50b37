/** Why a checkpoint did not complete (Flink's CheckpointFailureReason, the ones that apply here). */
export const CheckpointFailureReason = {
  CHECKPOINT_EXPIRED: "Checkpoint expired before completing.",
  CHECKPOINT_DECLINED: "Checkpoint was declined.",
  CHECKPOINT_SUBSUMED: "Checkpoint has been subsumed.",
  TOO_MANY_CONCURRENT_CHECKPOINTS: "The maximum number of concurrent checkpoints is exceeded.",
  MINIMUM_TIME_BETWEEN_CHECKPOINTS: "The minimum time between checkpoints is still pending.",
  TASK_FAILURE: "Task has failed.",
  JOB_FAILOVER_REGION: "Job failover happened; pending checkpoints were aborted.",
  CHECKPOINT_COORDINATOR_SUSPEND: "Checkpoint Coordinator is suspending (stop-with-savepoint).",
  IO_EXCEPTION: "An exception occurred while writing checkpoint state or metadata.",
  FINALIZE_CHECKPOINT_FAILURE: "Failure to finalize checkpoint.",
} as const;

export type CheckpointFailureReasonKey = keyof typeof CheckpointFailureReason;

/**
 * Reasons that count against tolerable-failed-checkpoints. As in Flink's CheckpointFailureManager,
 * what the checkpoint itself did wrong counts (expired, declined, an I/O error, a failed commit);
 * what happened around it does not: a failover (the restart strategy handles it), a subsumed
 * checkpoint (a newer one completed), or a trigger the policy refused.
 */
export function countsAsCheckpointFailure(r: CheckpointFailureReasonKey): boolean {
  switch (r) {
    case "CHECKPOINT_EXPIRED":
    case "CHECKPOINT_DECLINED":
    case "IO_EXCEPTION":
    case "FINALIZE_CHECKPOINT_FAILURE":
      return true;
    case "CHECKPOINT_SUBSUMED":
    case "TOO_MANY_CONCURRENT_CHECKPOINTS":
    case "MINIMUM_TIME_BETWEEN_CHECKPOINTS":
    case "TASK_FAILURE":
    case "JOB_FAILOVER_REGION":
    case "CHECKPOINT_COORDINATOR_SUSPEND":
      return false;
  }
}
