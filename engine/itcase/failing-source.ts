import {
  ListStateDescriptor, RichSourceFunction, SOURCE_FINISHED, type CheckpointListener, type CheckpointedFunction, type FunctionInitializationContext,
  type FunctionSnapshotContext, type SourceContext,
} from "../api/functions.ts";
import type { ListState } from "../state/keyed-state.ts";

/** Flink's IntType of the ITCase: a boxed int, so records carry an object through state. */
export interface IntType {
  value: number;
}
export type Record2 = [key: number, value: IntType];

const INITIAL = -1;
const STATEFUL_CHECKPOINT_COMPLETED = -2;

/**
 * The ITCase's FailingSource (flink-tests, checkpointing/utils): a non-parallel source that
 * emits, per step, element `i` for every key with event time `i` and then watermark `i`, one
 * step per virtual ms. On its first attempt it fails once, half way, and only after a
 * checkpoint holding "a decent amount" of its state has completed (and at least two
 * checkpoints have). Its position lives in operator list state, so a restore resumes exactly.
 */
export class FailingSource extends RichSourceFunction<Record2> implements CheckpointedFunction, CheckpointListener {
  /** Failures thrown, over every copy of every attempt (Flink's tests use a static field too). */
  static failures = 0;

  private emitCallCount = 0;
  private completedCheckpoints = 0;
  private checkpointStatus = INITIAL;
  private readonly failureAfterNumElements: number;
  private state!: ListState<number>;

  constructor(private readonly numKeys: number, private readonly numElementsToEmit: number) {
    super();
    this.failureAfterNumElements = Math.floor(numElementsToEmit / 2);
  }

  override open(): void {
    if (this.getRuntimeContext().getNumberOfParallelSubtasks() !== 1) throw new Error("FailingSource is a non-parallel source");
  }

  initializeState(ctx: FunctionInitializationContext): void {
    this.state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<number>("emit-call-count"));
    if (!ctx.isRestored()) return;
    const s = this.state.get();
    if (s.length !== 1) throw new Error(`Test failed due to unexpected recovered state size ${s.length}`);
    this.emitCallCount = s[0];
  }

  run(ctx: SourceContext<Record2>): number {
    if (this.emitCallCount >= this.numElementsToEmit) return SOURCE_FINISHED;
    const rc = this.getRuntimeContext();
    const failThisTask = rc.getAttemptNumber() === 0 && rc.getIndexOfThisSubtask() === 0;
    if (failThisTask && this.emitCallCount === this.failureAfterNumElements) {
      // Wait (in virtual time) for a checkpoint that fulfils the requirements, then fail.
      if (this.checkpointStatus !== STATEFUL_CHECKPOINT_COMPLETED || this.completedCheckpoints < 2) return 1;
      FailingSource.failures++;
      throw new Error("Artificial Failure");
    }
    const next = this.emitCallCount++;
    for (let k = 0; k < this.numKeys; k++) ctx.collectWithTimestamp([k, { value: next }], next);
    ctx.emitWatermark(next);
    return 1;
  }

  snapshotState(ctx: FunctionSnapshotContext): void {
    // A checkpoint with "a decent amount" of state is the one the failure waits for.
    if (this.emitCallCount > this.failureAfterNumElements / 2 && this.checkpointStatus === INITIAL) this.checkpointStatus = ctx.getCheckpointId();
    this.state.update([this.emitCallCount]);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.completedCheckpoints++;
    if (this.checkpointStatus === checkpointId) this.checkpointStatus = STATEFUL_CHECKPOINT_COMPLETED;
  }
}
