/** Why a checkpoint did not complete (Flink's CheckpointFailureReason, the ones that apply here). */
export const CheckpointFailureReason = {
  CHECKPOINT_EXPIRED: "Checkpoint expired before completing.",
  CHECKPOINT_DECLINED: "Checkpoint was declined.",
  TOO_MANY_CONCURRENT_CHECKPOINTS: "The maximum number of concurrent checkpoints is exceeded.",
  MINIMUM_TIME_BETWEEN_CHECKPOINTS: "The minimum time between checkpoints is still pending.",
  TASK_FAILURE: "Task has failed.",
  JOB_FAILOVER_REGION: "Job failover happened; pending checkpoints were aborted.",
  IO_EXCEPTION: "An exception occurred while writing checkpoint state or metadata.",
  FINALIZE_CHECKPOINT_FAILURE: "Failure to finalize checkpoint.",
} as const;

export type CheckpointFailureReasonKey = keyof typeof CheckpointFailureReason;

/** Reasons that count against tolerable-failed-checkpoints (a failover does not: the restart strategy handles it). */
export function countsAsCheckpointFailure(r: CheckpointFailureReasonKey): boolean {
  return r !== "JOB_FAILOVER_REGION" && r !== "TASK_FAILURE" && r !== "TOO_MANY_CONCURRENT_CHECKPOINTS" && r !== "MINIMUM_TIME_BETWEEN_CHECKPOINTS";
}
