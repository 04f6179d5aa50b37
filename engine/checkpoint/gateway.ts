import type { StateHandle } from "../state/checkpoint-storage.ts";
import type { AckResult, SubtaskCheckpointStats } from "./checkpoint.ts";
import type { CheckpointFailureReasonKey } from "./failure-reason.ts";

/** What a trigger (and the barrier it becomes) tells every task about the checkpoint. */
export interface CheckpointOptions {
  /** Taken after every source reached its end (FLIP-147). */
  readonly final: boolean;
  /** A savepoint: written whole (never a delta), whatever incremental says. */
  readonly savepoint: boolean;
  /**
   * The synchronous savepoint of stop-with-savepoint: a source emits nothing after its barrier
   * (Flink stops the sources first), so no record is read past the offsets the savepoint holds.
   * Absent for every other checkpoint.
   */
  readonly stop?: true;
  /**
   * Incremental: the completed checkpoint to write deltas against (the coordinator's latest at
   * trigger time), so the coordinator knows every parent a pending checkpoint may need.
   */
  readonly base?: number;
}

/**
 * Coordinator -> tasks. The runner implements it as transport (RPC latency) and nothing else:
 * what a task does with a message is the task's (and its SubtaskCheckpointer's) business.
 */
export interface TaskGateway {
  /** Every task that must acknowledge. */
  taskNames(): string[];
  /** Reaches the source tasks, which snapshot and inject the barrier. */
  triggerCheckpoint(checkpointId: number, options: CheckpointOptions): void;
  /** `stop`: the savepoint of stop-with-savepoint, on whose notice the job ends. */
  notifyCheckpointComplete(checkpointId: number, final: boolean, stop: boolean): void;
  notifyCheckpointAborted(checkpointId: number, reason: CheckpointFailureReasonKey): void;
}

/** Tasks -> coordinator (Flink's CheckpointResponder). */
export interface CoordinatorGateway {
  acknowledge(task: string, checkpointId: number, handle: StateHandle, stats: SubtaskCheckpointStats, now: number): AckResult;
  /**
   * An acknowledgement whose transit the task already waited out: with in-memory storage the state
   * travels inside the ack (Flink's JobManagerCheckpointStorage), so the end of the async phase and
   * the ack's arrival are one event, and this delivers it now.
   */
  acknowledgeArrived?(task: string, checkpointId: number, handle: StateHandle, stats: SubtaskCheckpointStats, now: number): AckResult;
  /** The task could not take its part of the checkpoint (an I/O error in the async phase, ...). */
  decline(task: string, checkpointId: number, reason: CheckpointFailureReasonKey, cause: string, now: number): void;
}
