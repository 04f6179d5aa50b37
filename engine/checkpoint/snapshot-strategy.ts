import type { OperatorSnapshot } from "../runtime/operator.ts";
import type { CheckpointOptions } from "./gateway.ts";
import { IncrementalTracker } from "./incremental.ts";

/**
 * How a keyed backend's state becomes what is written (Flink's SnapshotStrategy): whole, or as
 * changes against a base checkpoint. One instance per subtask; it hears which checkpoints
 * completed or were aborted, since only a completed one may serve as a base.
 */
export interface SnapshotStrategy {
  readonly name: string;
  /** Before the sync phase of every checkpoint (a backend that tracks changes prepares its scan here). */
  beforeSnapshot?(checkpointId: number, options: CheckpointOptions): void;
  snapshot(checkpointId: number, uid: string, op: OperatorSnapshot, options: CheckpointOptions): OperatorSnapshot;
  completed(checkpointId: number): void;
  aborted(checkpointId: number): void;
}

export const FULL_SNAPSHOTS: SnapshotStrategy = {
  name: "full",
  snapshot: (_id, _uid, op) => op,
  completed: () => {},
  aborted: () => {},
};

/** Deltas against the base the trigger named; a savepoint is always whole (it must stand alone). */
export class DiffingIncrementalSnapshots implements SnapshotStrategy {
  readonly name = "incremental";
  private readonly tracker = new IncrementalTracker();

  snapshot(checkpointId: number, uid: string, op: OperatorSnapshot, options: CheckpointOptions): OperatorSnapshot {
    if (options.savepoint) return op;
    const delta = this.tracker.delta(checkpointId, uid, op.keyed, options.base);
    return delta ? { ...op, keyed: [], delta } : op;
  }
  completed(checkpointId: number): void {
    this.tracker.completed(checkpointId);
  }
  aborted(checkpointId: number): void {
    this.tracker.aborted(checkpointId);
  }
}
