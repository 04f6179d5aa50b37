import type { CheckpointListener, RuntimeContext, SourceContext, SourceFunction } from "../api/functions.ts";
import { isCheckpointedFunction, SOURCE_FINISHED } from "../api/functions.ts";
import { END_OF_INPUT, type ReaderOutput, type Source, type SourceReader, type SourceReaderContext, type SourceSplit } from "../api/source.ts";
import { FunctionOperatorState, instantiate } from "./function-context.ts";

/**
 * `env.addSource(SourceFunction)`: a Source whose reader drives the function's run loop one
 * step per poll, timestamps and watermarks as the function emits them (SourceContext), and
 * the function's CheckpointedFunction state as the reader's list state.
 */
export class FunctionSource<T> implements Source<T> {
  /** Readers created per subtask: the attempt number a RuntimeContext reports (each restart makes new readers). */
  private readonly created = new Map<number, number>();
  constructor(readonly fn: SourceFunction<T>, readonly sourceName: string) {}

  /** A non-parallel SourceFunction runs as one subtask (Flink refuses more). */
  get parallel(): boolean {
    return (this.fn as { parallel?: boolean }).parallel === true;
  }
  isBounded(): boolean {
    // Whether run ever returns SOURCE_FINISHED is the function's business; a job with
    // checkpoints ends when it does, and runs until stopAt otherwise.
    return true;
  }
  createSplits(): SourceSplit[] {
    return [{ splitId: "0" }];
  }
  createReader(_splits: SourceSplit[], ctx: SourceReaderContext): SourceReader<T> {
    const attempt = this.created.get(ctx.subtaskIndex) ?? 0;
    this.created.set(ctx.subtaskIndex, attempt + 1);
    return new FunctionSourceReader(instantiate(this.fn), ctx, attempt);
  }
}

class FunctionSourceReader<T> implements SourceReader<T>, SourceContext<T> {
  /** The function's own delay paces it, but no finer than 5 ms of virtual time (as every source polled before the 100 ms default). */
  readonly pollInterval = 5;
  private readonly state: FunctionOperatorState;
  private initialized = false;
  private out?: ReaderOutput<T>;
  private now = 0;

  constructor(private readonly fn: SourceFunction<T>, private readonly ctx: SourceReaderContext, private readonly attempt: number) {
    this.state = new FunctionOperatorState(ctx.subtaskIndex, ctx.parallelism);
  }

  /** initializeState and open run before the first step or snapshot, after any restore. */
  private init(): void {
    if (this.initialized) return;
    this.initialized = true;
    if (isCheckpointedFunction(this.fn)) this.fn.initializeState(this.state);
    const c = this.ctx;
    const noKeyedState = (): never => {
      throw new Error("keyed state is not available in a source function");
    };
    const rc: RuntimeContext = {
      getTaskName: () => "Source",
      getIndexOfThisSubtask: () => c.subtaskIndex,
      getNumberOfParallelSubtasks: () => c.parallelism,
      getMaxNumberOfParallelSubtasks: () => c.parallelism,
      getAttemptNumber: () => this.attempt,
      getState: noKeyedState,
      getListState: noKeyedState,
      getMapState: noKeyedState,
      getReducingState: noKeyedState,
      getAggregatingState: noKeyedState,
    };
    this.fn.setRuntimeContext?.(rc);
    this.fn.open?.();
  }

  pollNext(now: number, _max: number, out: ReaderOutput<T>): number {
    this.init();
    this.out = out;
    this.now = now;
    const wait = this.fn.run(this);
    if (wait === SOURCE_FINISHED) return END_OF_INPUT;
    if (!(wait >= 0)) throw new Error(`SourceFunction.run returned ${wait}: return a delay in ms (>= 0) or SOURCE_FINISHED`);
    return now + wait;
  }

  collect(value: T): void {
    this.out!.collect(0, value, this.now);
  }
  collectWithTimestamp(value: T, timestamp: number): void {
    this.out!.collect(0, value, timestamp);
  }
  emitWatermark(watermark: number): void {
    const o = this.out!;
    if (!o.emitReaderWatermark) throw new Error("internal: this source task cannot take watermarks from its reader");
    o.emitReaderWatermark(watermark);
  }
  currentTime(): number {
    return this.now;
  }

  snapshotState(checkpointId: number): unknown[] {
    this.init();
    if (isCheckpointedFunction(this.fn)) this.fn.snapshotState({ getCheckpointId: () => checkpointId });
    return this.state.snapshot();
  }
  restoreState(entries: readonly unknown[]): void {
    this.state.restore(undefined, entries);
  }
  notifyCheckpointComplete(checkpointId: number): void {
    (this.fn as Partial<CheckpointListener>).notifyCheckpointComplete?.(checkpointId);
  }
  close(): void {
    this.fn.cancel?.();
    this.fn.close?.();
  }
}
