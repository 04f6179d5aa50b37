import type { Kernel } from "../kernel/kernel.ts";
import type { TraceEventKind } from "../kernel/trace.ts";
import type { Rng } from "../kernel/rng.ts";
import type { Logger } from "../api/logger.ts";
import type { KeyedStateBackend, KeyGroupState } from "../state/keyed-state.ts";
import type { KeyType } from "../state/keygroups.ts";
import type { Fs } from "../state/fs.ts";
import type { TimerSnapshot } from "../state/timers.ts";
import type { FaultPoint } from "../checkpoint/faults.ts";
import type { KeyedDelta } from "../checkpoint/incremental.ts";

/** Where an operator sends what it produces. One call per record; no promise, no closure. */
export interface Output<T> {
  collect(value: T, timestamp: number): void;
  collectSide(tag: string, value: unknown, timestamp: number): void;
  emitWatermark(watermark: number): void;
}

/** What an operator snapshot holds: keyed state and timers by key group, plus operator list state. */
export interface OperatorSnapshot {
  /** Full keyed state; empty when `delta` holds the changes since the parent checkpoint instead. */
  readonly keyed: KeyGroupState[];
  readonly delta?: KeyedDelta;
  readonly timers: TimerSnapshot[];
  readonly list: unknown[];
}

/** Restored state handed to a new operator instance, already cut to its key-group range. */
export interface RestoredState {
  readonly checkpointId: number;
  readonly keyed: KeyGroupState[];
  readonly timers: TimerSnapshot[];
  /** Union of every old subtask's list state: each operator takes its share. */
  readonly listUnion: unknown[];
}

/** A result a finished subtask reports to the job (late data totals and the like). */
export interface JobReport {
  operator: string;
  subtask: number;
  kind: string;
  key?: KeyType;
  value: unknown;
}

/** What the runtime gives an operator instance. */
export interface OperatorContext {
  readonly operatorName: string;
  readonly operatorUid: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly kernel: Kernel;
  readonly rng: Rng;
  readonly log: Logger;
  readonly fs: Fs;
  readonly checkpointingEnabled: boolean;
  /** Present for operators after a keyBy. */
  readonly keyedBackend?: KeyedStateBackend;
  /** Job-level results (late-data totals) and statistics. */
  report(r: JobReport): void;
  trace(what: string): void;
  /**
   * A frequent entry of this subtask as numbers (Trace.event with the task's numeric id): no
   * string is built or hashed unless lines are kept. For entries written every checkpoint.
   */
  traceEvent(kind: TraceEventKind, a: number, b?: number): void;
  /** Passes a named fault point: the fault injector may crash the task here. */
  fault(point: FaultPoint, checkpointId?: number): void;
}

export interface StreamOperator<IN = any, OUT = any> {
  setup(ctx: OperatorContext, output: Output<OUT>): void;
  /** Called once before the first element, after initializeState. */
  open(): void;
  initializeState(restored: RestoredState | undefined): void;
  processElement(value: IN, timestamp: number): void;
  processWatermark(watermark: number): void;
  /** End of all input: flush what is buffered. */
  endInput(): void;
  /** Synchronous phase of a checkpoint. */
  snapshotState(checkpointId: number): OperatorSnapshot;
  notifyCheckpointComplete(checkpointId: number): void;
  notifyCheckpointAborted(checkpointId: number): void;
  close(): void;
}

/** Shared by every snapshot without state; frozen to the leaves, as snapshots are read-only to every consumer. */
export const EMPTY_SNAPSHOT: OperatorSnapshot = Object.freeze({ keyed: Object.freeze([]), timers: Object.freeze([]), list: Object.freeze([]) }) as unknown as OperatorSnapshot;

/** A snapshot of operator list state only (sources' offsets, sinks' pending transactions): no keyed state or timers. */
export function listSnapshot(list: unknown[]): OperatorSnapshot {
  return { keyed: EMPTY_SNAPSHOT.keyed, timers: EMPTY_SNAPSHOT.timers, list };
}

/** Defaults for the many operators that hold no state. */
export abstract class AbstractStreamOperator<IN, OUT> implements StreamOperator<IN, OUT> {
  protected ctx!: OperatorContext;
  protected output!: Output<OUT>;
  setup(ctx: OperatorContext, output: Output<OUT>): void {
    this.ctx = ctx;
    this.output = output;
  }
  open(): void {}
  initializeState(_restored: RestoredState | undefined): void {}
  abstract processElement(value: IN, timestamp: number): void;
  processWatermark(watermark: number): void {
    this.output.emitWatermark(watermark);
  }
  endInput(): void {}
  snapshotState(_checkpointId: number): OperatorSnapshot {
    return EMPTY_SNAPSHOT;
  }
  notifyCheckpointComplete(_checkpointId: number): void {}
  notifyCheckpointAborted(_checkpointId: number): void {}
  close(): void {}
}
