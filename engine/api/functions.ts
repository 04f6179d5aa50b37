import type { AggregateFunction, AggregatingState, ListState, MapState, ReducingState, ValueState } from "../state/keyed-state.ts";
import type { OutputTag, TimeWindow } from "./windows.ts";

/**
 * Flink's user-function interfaces (org.apache.flink.api.common.functions and
 * streaming.api.functions), shaped for a synchronous simulator: no checked exceptions, no
 * blocking; a function's `open` sees its RuntimeContext, keyed state comes from descriptors.
 */
export interface Collector<T> {
  collect(value: T): void;
}

// ---- state descriptors (Flink's *StateDescriptor: a name, and for value state a default) ----

export class ValueStateDescriptor<T> {
  readonly kind = "value";
  constructor(readonly name: string, readonly defaultValue?: T) {}
}
export class ListStateDescriptor<T> {
  readonly kind = "list";
  declare readonly _type?: T;
  constructor(readonly name: string) {}
}
export class MapStateDescriptor<K, V> {
  readonly kind = "map";
  declare readonly _type?: [K, V];
  constructor(readonly name: string) {}
}
export class ReducingStateDescriptor<T> {
  readonly kind = "reducing";
  constructor(readonly name: string, readonly reduce: (a: T, b: T) => T) {}
}
export class AggregatingStateDescriptor<IN, ACC, OUT> {
  readonly kind = "aggregating";
  constructor(readonly name: string, readonly fn: AggregateFunction<IN, ACC, OUT>) {}
}

/** Keyed state of the current key (Flink's KeyedStateStore). */
export interface KeyedStateStore {
  getState<T>(d: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(d: ListStateDescriptor<T>): ListState<T>;
  getMapState<K, V>(d: MapStateDescriptor<K, V>): MapState<K, V>;
  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;
}

/** Flink's RuntimeContext: who this subtask is, and (on keyed streams) keyed state. */
export interface RuntimeContext extends KeyedStateStore {
  getTaskName(): string;
  getIndexOfThisSubtask(): number;
  getNumberOfParallelSubtasks(): number;
  getMaxNumberOfParallelSubtasks(): number;
  /** 0 on the first run, then one more per restart. */
  getAttemptNumber(): number;
}

/** Flink's RichFunction: open/close around the function's life, and its runtime context. */
export abstract class AbstractRichFunction {
  private runtimeContext?: RuntimeContext;
  setRuntimeContext(ctx: RuntimeContext): void {
    this.runtimeContext = ctx;
  }
  getRuntimeContext(): RuntimeContext {
    if (!this.runtimeContext) throw new Error(`${this.constructor.name}: the runtime context is only available once the function runs (open and after)`);
    return this.runtimeContext;
  }
  open(): void {}
  close(): void {}
}

/** What the runtime calls on any function that has them. */
export interface FunctionLifecycle {
  setRuntimeContext?(ctx: RuntimeContext): void;
  open?(): void;
  close?(): void;
}

// ---- checkpointing hooks (Flink's CheckpointedFunction and CheckpointListener) ----

export interface FunctionSnapshotContext {
  getCheckpointId(): number;
}

/** Operator (non-keyed) list state: split among subtasks on restore, or the union of all (union). */
export interface OperatorStateStore {
  getListState<T>(d: ListStateDescriptor<T>): ListState<T>;
  getUnionListState<T>(d: ListStateDescriptor<T>): ListState<T>;
}

export interface FunctionInitializationContext {
  isRestored(): boolean;
  /** Present only on a restore: the checkpoint restored from. */
  getRestoredCheckpointId(): number | undefined;
  getOperatorStateStore(): OperatorStateStore;
}

export interface CheckpointedFunction {
  snapshotState(context: FunctionSnapshotContext): void;
  initializeState(context: FunctionInitializationContext): void;
}

export interface CheckpointListener {
  notifyCheckpointComplete(checkpointId: number): void;
  notifyCheckpointAborted?(checkpointId: number): void;
}

export function isCheckpointedFunction(f: unknown): f is CheckpointedFunction {
  return typeof (f as CheckpointedFunction).snapshotState === "function" && typeof (f as CheckpointedFunction).initializeState === "function";
}

// ---- window functions ----

/** Flink's WindowFunction (apply): every element of the window, once, when it fires. */
export interface WindowFunction<IN, OUT, KEY, W extends TimeWindow = TimeWindow> extends FunctionLifecycle {
  apply(key: KEY, window: W, input: Iterable<IN>, out: Collector<OUT>): void;
}
export abstract class RichWindowFunction<IN, OUT, KEY, W extends TimeWindow = TimeWindow> extends AbstractRichFunction implements WindowFunction<IN, OUT, KEY, W> {
  abstract apply(key: KEY, window: W, input: Iterable<IN>, out: Collector<OUT>): void;
}

export interface ProcessWindowContext<W extends TimeWindow = TimeWindow> {
  window(): W;
  currentWatermark(): number;
  currentProcessingTime(): number;
  /** State scoped to this key and this window; clear it in `clear`. */
  windowState(): KeyedStateStore;
  /** State scoped to this key, across windows. */
  globalState(): KeyedStateStore;
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Flink's ProcessWindowFunction: the window's elements with a context holding per-window and global state. */
export abstract class ProcessWindowFunction<IN, OUT, KEY, W extends TimeWindow = TimeWindow> extends AbstractRichFunction {
  abstract process(key: KEY, context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): void;
  /** The window is purged: drop its per-window state here. */
  clear(_context: ProcessWindowContext<W>): void {}
}

// ---- process functions and timers ----

export interface TimerService {
  currentProcessingTime(): number;
  currentWatermark(): number;
  registerEventTimeTimer(time: number): void;
  registerProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

export type TimeDomain = "EVENT_TIME" | "PROCESSING_TIME";

export interface ProcessContext {
  /** The element's timestamp (its event time). */
  timestamp(): number;
  timerService(): TimerService;
  output<X>(tag: OutputTag<X>, value: X): void;
}

export abstract class ProcessFunction<I, O> extends AbstractRichFunction {
  abstract processElement(value: I, ctx: ProcessContext, out: Collector<O>): void;
  /** Timers fire only on keyed streams (keyBy(...).process(...)). */
  onTimer(_timestamp: number, _ctx: OnTimerContext<unknown>, _out: Collector<O>): void {}
}

export interface KeyedProcessContext<K> extends ProcessContext {
  getCurrentKey(): K;
}
export interface OnTimerContext<K> extends KeyedProcessContext<K> {
  timeDomain(): TimeDomain;
}

/** Flink's KeyedProcessFunction: keyed state and event-time / processing-time timers per key. */
export abstract class KeyedProcessFunction<K, I, O> extends AbstractRichFunction {
  abstract processElement(value: I, ctx: KeyedProcessContext<K>, out: Collector<O>): void;
  onTimer(_timestamp: number, _ctx: OnTimerContext<K>, _out: Collector<O>): void {}
}

// ---- sources and sinks as functions (Flink's SourceFunction / SinkFunction) ----

export interface SourceContext<T> {
  collect(value: T): void;
  collectWithTimestamp(value: T, timestamp: number): void;
  emitWatermark(watermark: number): void;
  /** Virtual time now. */
  currentTime(): number;
}

/** `run` returns this when the source has emitted everything, ever. */
export const SOURCE_FINISHED = -1;

/**
 * Flink's SourceFunction, cut into steps: a simulator cannot block in `run`, so each call emits
 * a bounded amount and returns how many virtual ms to wait before the next call (0: at once),
 * or SOURCE_FINISHED. Throwing fails the task (and restarts the job, per its strategy).
 */
export interface SourceFunction<T> extends FunctionLifecycle {
  run(ctx: SourceContext<T>): number;
  cancel?(): void;
}
export abstract class RichSourceFunction<T> extends AbstractRichFunction implements SourceFunction<T> {
  abstract run(ctx: SourceContext<T>): number;
  cancel(): void {}
}
/** Marks a source function that may run with parallelism > 1 (Flink's ParallelSourceFunction). */
export abstract class RichParallelSourceFunction<T> extends RichSourceFunction<T> {
  readonly parallel = true;
}

export interface SinkFunctionContext {
  timestamp(): number;
  currentWatermark(): number;
}

/** Flink's SinkFunction: `invoke` per record; with CheckpointedFunction its state is exactly-once. */
export interface SinkFunction<T> extends FunctionLifecycle {
  invoke(value: T, context: SinkFunctionContext): void;
  /** End of input: flush (Flink's finish()). */
  finish?(): void;
}
export abstract class RichSinkFunction<T> extends AbstractRichFunction implements SinkFunction<T> {
  abstract invoke(value: T, context: SinkFunctionContext): void;
  finish(): void {}
}
