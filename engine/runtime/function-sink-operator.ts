import type { CheckpointListener, SinkFunction, SinkFunctionContext } from "../api/functions.ts";
import { isCheckpointedFunction } from "../api/functions.ts";
import type { Sink, SinkWriter } from "../api/sink.ts";
import { MIN_WATERMARK } from "./elements.ts";
import { FunctionOperatorState, openFunction } from "./function-context.ts";
import { AbstractStreamOperator, listSnapshot, type OperatorSnapshot, type RestoredState } from "./operator.ts";

/**
 * `addSink(SinkFunction)`: the plan sees an ordinary, non-transactional sink; the operator
 * factory runs it as a SinkFunctionOperator instead of through a writer.
 */
export class FunctionSink<T> implements Sink<T> {
  readonly transactional = false;
  constructor(readonly fn: SinkFunction<T>, readonly sinkName: string) {}
  /** True when the function keeps checkpointed state (its own state is then exactly-once). */
  get checkpointed(): boolean {
    return isCheckpointedFunction(this.fn);
  }
  createWriter(): SinkWriter<T> {
    throw new Error(`internal: ${this.sinkName} is a SinkFunction and runs as its own operator, not through a writer`);
  }
}

/**
 * Flink's StreamSink: `invoke` per record; CheckpointedFunction's snapshotState/initializeState
 * with operator list state; CheckpointListener's notifications; `finish` at end of input.
 */
export class SinkFunctionOperator<T> extends AbstractStreamOperator<T, never> implements SinkFunctionContext {
  private state!: FunctionOperatorState;
  private ts = 0;
  private watermark = MIN_WATERMARK;

  constructor(private readonly fn: SinkFunction<T>, private readonly attempt: number) {
    super();
  }

  override initializeState(restored: RestoredState | undefined): void {
    this.state = new FunctionOperatorState(this.ctx.subtaskIndex, this.ctx.parallelism);
    if (restored) this.state.restore(restored.checkpointId, restored.listUnion);
    if (isCheckpointedFunction(this.fn)) this.fn.initializeState(this.state);
  }

  override open(): void {
    openFunction(this.fn, this.ctx, this.attempt);
  }

  processElement(value: T, ts: number): void {
    this.ts = ts;
    this.fn.invoke(value, this);
  }

  timestamp(): number {
    return this.ts;
  }
  currentWatermark(): number {
    return this.watermark;
  }

  override processWatermark(wm: number): void {
    this.watermark = wm;
  }

  override endInput(): void {
    this.fn.finish?.();
  }

  override snapshotState(checkpointId: number): OperatorSnapshot {
    if (isCheckpointedFunction(this.fn)) this.fn.snapshotState({ getCheckpointId: () => checkpointId });
    return listSnapshot(this.state.snapshot());
  }

  override notifyCheckpointComplete(checkpointId: number): void {
    (this.fn as Partial<CheckpointListener>).notifyCheckpointComplete?.(checkpointId);
  }

  override notifyCheckpointAborted(checkpointId: number): void {
    (this.fn as Partial<CheckpointListener>).notifyCheckpointAborted?.(checkpointId);
  }

  override close(): void {
    this.fn.close?.();
  }
}
