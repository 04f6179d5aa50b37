import { AbstractStreamOperator, type OperatorContext, type OperatorSnapshot, type RestoredState } from "./operator.ts";
import { KeyGroupCache, type KeyType } from "../state/keygroups.ts";
import { TimerService, type Timer, type TimerQueue } from "../state/timers.ts";
import type { AggregateFunction, AggregatingState, KeyedStateBackend, Namespaced } from "../state/keyed-state.ts";
import { VOID_NAMESPACE } from "../state/keyed-state.ts";
import { MIN_WATERMARK } from "./elements.ts";
import { decodeKey, isEncodedKey } from "../state/key-encoding.ts";

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Turns (key, window, aggregate) into the operator's output record. */
export type WindowResultFn<K, R, OUT> = (key: K, window: TimeWindow, result: R) => OUT;

export interface WindowOperatorSpec<IN, ACC, R, OUT> {
  readonly keySelector: (v: IN) => KeyType;
  readonly size: number;
  readonly offset: number;
  readonly agg: AggregateFunction<IN, ACC, R>;
  readonly result: WindowResultFn<any, R, OUT>;
  readonly lateTag?: string;
  readonly allowedLateness: number;
}

/** Side-output record for data that arrived after its window fired. */
export interface LateRecord<T> {
  readonly value: T;
  readonly timestamp: number;
  readonly window: TimeWindow;
}

/** The keyed state holding each open window's accumulator (namespace: the window's start). */
export const WINDOW_STATE = "window-contents";
const LATE_STATE = "late-data";

/**
 * Tumbling event-time windows with an incremental aggregate (Flink's WindowOperator with an
 * EventTimeTrigger). A window [start, end) fires when the watermark reaches end - 1. A record
 * whose window has already fired is late: it is aggregated into per-key late totals (kept in
 * keyed state, so they are exactly-once too) and sent to the late side output when one is set.
 */
export class WindowOperator<IN, ACC, R, OUT> extends AbstractStreamOperator<IN, OUT> {
  private backend!: KeyedStateBackend;
  private contents!: AggregatingState<IN, R> & Namespaced;
  private late!: AggregatingState<IN, R> & Namespaced;
  private timers!: TimerQueue;
  private keyGroups!: KeyGroupCache;
  private watermark = MIN_WATERMARK;
  private readonly fire = (t: Timer) => this.onTimer(t);

  constructor(private readonly spec: WindowOperatorSpec<IN, ACC, R, OUT>) {
    super();
  }

  override initializeState(restored: RestoredState | undefined): void {
    const b = this.ctx.keyedBackend;
    if (!b) throw new Error(`${this.ctx.operatorName}: a window needs a keyed stream`);
    this.backend = b;
    this.timers = b.createTimerService?.() ?? new TimerService();
    this.keyGroups = new KeyGroupCache(this.ctx.maxParallelism);
    this.contents = b.getAggregatingState(WINDOW_STATE, this.spec.agg);
    this.late = b.getAggregatingState(LATE_STATE, this.spec.agg);
    this.late.setCurrentNamespace(VOID_NAMESPACE);
    if (restored) {
      b.restore(restored.keyed);
      this.timers.restore(restored.timers, b.keyGroupRange);
    }
  }

  processElement(value: IN, ts: number): void {
    const spec = this.spec;
    const key = spec.keySelector(value);
    this.backend.setCurrentKey(key, this.keyGroups.keyGroup(key));
    // Flink's TimeWindow.getWindowStartWithOffset; one modulo when ts - offset >= 0 (always, for trade times).
    const rel = ts - spec.offset;
    const start = rel >= 0 ? ts - (rel % spec.size) : ts - (((rel % spec.size) + spec.size) % spec.size);
    const maxTs = start + spec.size - 1;
    if (maxTs + spec.allowedLateness <= this.watermark) {
      this.late.add(value);
      if (spec.lateTag !== undefined) {
        this.output.collectSide(spec.lateTag, { value, timestamp: ts, window: { start, end: start + spec.size } } satisfies LateRecord<IN>, ts);
      }
      return;
    }
    this.contents.setCurrentNamespace(start);
    if (this.contents.add(value)) this.timers.register(key, this.backend.currentKeyGroup(), start, maxTs);
  }

  override processWatermark(wm: number): void {
    this.watermark = wm;
    this.timers.advance(wm, this.fire);
    this.output.emitWatermark(wm);
  }

  private onTimer(t: Timer): void {
    this.backend.setCurrentKey(t.key, t.keyGroup);
    const start = t.namespace as number;
    this.contents.setCurrentNamespace(start);
    const r = this.contents.get();
    if (r === undefined) return;
    this.contents.clear();
    // Composite keys reach the result as the tuple keyBy returned; string/number keys as they are.
    this.output.collect(this.spec.result(isEncodedKey(t.key) ? decodeKey(t.key) : t.key, { start, end: start + this.spec.size }, r), t.timestamp);
  }

  override endInput(): void {
    reportEndOfInput(this.ctx, this.backend, LATE_STATE, () => this.late.get(), this.timers.size());
  }

  override snapshotState(): OperatorSnapshot {
    return { keyed: this.backend.snapshot(), timers: this.timers.snapshot(), list: [] };
  }

}

/** Sum of one numeric field plus a count: exact for bigint fields (fixed-point quantities). */
export interface SumAcc {
  sum: bigint | number;
  count: number;
}

export function sumAggregate<T>(field: string, operator: string): AggregateFunction<T, SumAcc, SumAcc> {
  return {
    createAccumulator: () => ({ sum: 0n, count: 0 }),
    add(v: T, acc: SumAcc): SumAcc {
      const x = (v as any)?.[field];
      if (typeof x === "bigint") {
        if (acc.count > 0 && typeof acc.sum !== "bigint") throw new TypeError(`${operator}: sum("${field}") mixes bigint and number values`);
        return { sum: (acc.count === 0 ? 0n : (acc.sum as bigint)) + x, count: acc.count + 1 };
      }
      if (typeof x === "number") {
        if (acc.count > 0 && typeof acc.sum !== "number") throw new TypeError(`${operator}: sum("${field}") mixes bigint and number values`);
        return { sum: (acc.count === 0 ? 0 : (acc.sum as number)) + x, count: acc.count + 1 };
      }
      throw new TypeError(`${operator}: sum("${field}"): the record's "${field}" is ${x === undefined ? "missing" : typeof x}, not a number or bigint`);
    },
    getResult: (acc) => acc,
    merge: (a, b) => ({ sum: (a.sum as any) + (b.sum as any), count: a.count + b.count }),
  };
}

/**
 * End of input for a window operator: each key's late-data totals (kept in keyed state, so
 * exactly-once) and how many windows never fired, as job reports.
 */
export function reportEndOfInput(ctx: OperatorContext, backend: KeyedStateBackend, lateState: string, late: () => unknown, openWindows: number): void {
  for (const [key, kg] of backend.entries(lateState)) {
    backend.setCurrentKey(key, kg);
    ctx.report({ operator: ctx.operatorName, subtask: ctx.subtaskIndex, kind: "late", key: decodeKey(key) as KeyType, value: late() });
  }
  if (openWindows > 0) ctx.report({ operator: ctx.operatorName, subtask: ctx.subtaskIndex, kind: "open-windows", value: openWindows });
}
