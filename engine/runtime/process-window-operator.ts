import type { Collector, FunctionLifecycle, KeyedStateStore, ProcessWindowContext, ProcessWindowFunction, WindowFunction } from "../api/functions.ts";
import type { OutputTag, TimeWindow, WindowAssigner } from "../api/windows.ts";
import { windowStart } from "../api/windows.ts";
import { decodeKey } from "../state/key-encoding.ts";
import type { AggregateFunction, KeyedStateBackend, ListState, Namespace, ValueState } from "../state/keyed-state.ts";
import { VOID_NAMESPACE } from "../state/keyed-state.ts";
import { MIN_WATERMARK } from "./elements.ts";
import { BackendKeyedStore, openFunction } from "./function-context.ts";
import { KeyGroupCache, type KeyType } from "../state/keygroups.ts";
import { AbstractStreamOperator, type OperatorSnapshot, type RestoredState } from "./operator.ts";
import { TimerService, type Timer, type TimerQueue } from "../state/timers.ts";
import { reportEndOfInput, type LateRecord } from "./window-operator.ts";

/**
 * Flink's WindowOperator with an EventTimeTrigger and an InternalWindowFunction, for every
 * assigner the engine runs: tumbling and sliding windows (namespace = window start), and
 * session windows, which merge. As Flink's MergingWindowSet, the key's open sessions are kept in
 * keyed state, each with the namespace its contents live under (its "state window"): a merge
 * keeps the state window of the earliest merged session and folds the others into it, so a
 * session that grows by one record never copies its contents. Timers are per actual window.
 *
 * Contents are either every element (apply / process) or one accumulator (reduce / aggregate
 * with a window function). A window fires when the watermark reaches end - 1, its function
 * sees the key as keyBy returned it, and the window is purged at once (allowed lateness 0).
 */
export interface WindowProcess<IN, OUT, KEY> extends FunctionLifecycle {
  process(key: KEY, context: ProcessWindowContext, elements: Iterable<IN>, out: Collector<OUT>): void;
  clear?(context: ProcessWindowContext): void;
}

export interface ProcessWindowOperatorSpec<IN, OUT> {
  readonly keySelector: (v: IN) => KeyType;
  readonly assigner: WindowAssigner;
  readonly agg?: AggregateFunction<IN, any, any>;
  readonly fn: WindowProcess<any, OUT, any>;
  readonly lateTag?: string;
  readonly attempt: number;
}

const CONTENTS = "window-contents";
const SESSIONS = "session-windows";
const LATE = "late-count";

export class ProcessWindowOperator<IN, OUT> extends AbstractStreamOperator<IN, OUT> implements Collector<OUT> {
  private backend!: KeyedStateBackend;
  private timers!: TimerQueue;
  private keyGroups!: KeyGroupCache;
  private list?: ListState<IN> & { setCurrentNamespace(ns: Namespace): void };
  private acc?: ValueState<unknown> & { setCurrentNamespace(ns: Namespace): void };
  /** Open sessions of the current key: [start, end, state window namespace], sorted by start. */
  private sessions?: ValueState<[number, number, string][]> & { setCurrentNamespace(ns: Namespace): void };
  private late!: ValueState<number> & { setCurrentNamespace(ns: Namespace): void };
  private watermark = MIN_WATERMARK;
  private readonly fire = (t: Timer) => this.onTimer(t);
  private global!: KeyedStateStore;
  private perWindow!: KeyedStateStore;
  private current: TimeWindow = { start: 0, end: 0 };
  private currentNs: Namespace = VOID_NAMESPACE;
  private outTs = 0;
  private readonly one: unknown[] = [undefined];

  constructor(private readonly spec: ProcessWindowOperatorSpec<IN, OUT>) {
    super();
  }

  override initializeState(restored: RestoredState | undefined): void {
    const b = this.ctx.keyedBackend;
    if (!b) throw new Error(`${this.ctx.operatorName}: a window needs a keyed stream`);
    this.backend = b;
    this.timers = b.createTimerService?.() ?? new TimerService();
    this.keyGroups = new KeyGroupCache(this.ctx.maxParallelism);
    if (this.spec.agg) this.acc = b.getValueState(CONTENTS);
    else this.list = b.getListState(CONTENTS);
    if (this.spec.assigner.kind === "event-time-session") {
      this.sessions = b.getValueState(SESSIONS);
      this.sessions.setCurrentNamespace(VOID_NAMESPACE);
    }
    this.late = b.getValueState(LATE);
    this.late.setCurrentNamespace(VOID_NAMESPACE);
    if (restored) {
      b.restore(restored.keyed);
      this.timers.restore(restored.timers, b.keyGroupRange);
    }
  }

  override open(): void {
    this.global = openFunction(this.spec.fn, this.ctx, this.spec.attempt);
    this.perWindow = new BackendKeyedStore(this.backend, () => {
      if (this.sessions) throw new Error(`${this.ctx.operatorName}: per-window state is not supported with merging (session) windows, as in Flink`);
      return this.currentNs;
    }, this.ctx.operatorName);
  }

  processElement(value: IN, ts: number): void {
    const key = this.spec.keySelector(value);
    this.backend.setCurrentKey(key, this.keyGroups.keyGroup(key));
    const a = this.spec.assigner;
    let accepted = false;
    if (a.kind === "tumbling-event-time") {
      const start = windowStart(ts, a.offset, a.size);
      accepted = this.addTo(key, value, start, start + a.size - 1);
    } else if (a.kind === "sliding-event-time") {
      for (let start = windowStart(ts, a.offset, a.slide); start > ts - a.size; start -= a.slide) {
        if (this.addTo(key, value, start, start + a.size - 1)) accepted = true;
      }
    } else {
      accepted = this.addToSession(key, value, ts, ts + a.gap);
    }
    if (!accepted) this.onLate(value, ts);
  }

  /** Adds to the window at namespace `ns` unless it is late; registers its timer when it opens. */
  private addTo(key: KeyType, value: IN, ns: Namespace, maxTs: number): boolean {
    if (maxTs <= this.watermark) return false;
    if (this.put(ns, value)) this.timers.register(key, this.backend.currentKeyGroup(), ns, maxTs);
    return true;
  }

  /** Returns true when the window was empty before. */
  private put(ns: Namespace, value: IN): boolean {
    if (this.acc) {
      const agg = this.spec.agg!;
      this.acc.setCurrentNamespace(ns);
      const cur = this.acc.value();
      this.acc.update(agg.add(value, cur === undefined ? agg.createAccumulator() : cur));
      return cur === undefined;
    }
    const l = this.list!;
    l.setCurrentNamespace(ns);
    l.add(value);
    // Reading the list to learn whether it was empty would cost O(window) per record on the kv
    // backend; the timer service registers a (key, window, time) once however often it is asked.
    return true;
  }

  /** Flink's MergingWindowSet.addWindow: the new session absorbs every session it overlaps or touches. */
  private addToSession(key: KeyType, value: IN, start: number, end: number): boolean {
    const s = this.sessions!;
    const open = s.value() ?? [];
    let lo = start;
    let hi = end;
    const keep: [number, number, string][] = [];
    let target: string | undefined;
    const absorbed: string[] = [];
    for (const w of open) {
      if (w[0] <= hi && w[1] >= lo) {
        // Sorted by start: the first absorbed session is the earliest; its state window stays.
        if (target === undefined) target = w[2];
        else absorbed.push(w[2]);
        if (w[0] < lo) lo = w[0];
        if (w[1] > hi) hi = w[1];
      } else keep.push(w);
    }
    // A merged session ends no earlier than the sessions it absorbed, which are not late; so only a lone new one can be.
    if (hi - 1 <= this.watermark) return false;
    const ns = target ?? `${lo}:${hi}`;
    for (const other of absorbed) this.moveContents(other, ns);
    keep.push([lo, hi, ns]);
    keep.sort((x, y) => x[0] - y[0]);
    s.update(keep);
    this.put(ns, value);
    this.timers.register(key, this.backend.currentKeyGroup(), `${lo}:${hi}`, hi - 1);
    return true;
  }

  private moveContents(from: Namespace, to: Namespace): void {
    if (this.acc) {
      const agg = this.spec.agg!;
      this.acc.setCurrentNamespace(from);
      const a = this.acc.value();
      this.acc.clear();
      if (a === undefined) return;
      this.acc.setCurrentNamespace(to);
      const b = this.acc.value();
      this.acc.update(b === undefined ? a : agg.merge(b, a));
      return;
    }
    const l = this.list!;
    l.setCurrentNamespace(from);
    const vs = l.get().slice();
    l.clear();
    l.setCurrentNamespace(to);
    for (const v of vs) l.add(v);
  }

  private onLate(value: IN, ts: number): void {
    this.late.update((this.late.value() ?? 0) + 1);
    if (this.spec.lateTag !== undefined) {
      const a = this.spec.assigner;
      const start = a.kind === "event-time-session" ? ts : windowStart(ts, a.offset, a.kind === "sliding-event-time" ? a.slide : a.size);
      const end = a.kind === "event-time-session" ? ts + a.gap : start + a.size;
      this.output.collectSide(this.spec.lateTag, { value, timestamp: ts, window: { start, end } } satisfies LateRecord<IN>, ts);
    }
  }

  override processWatermark(wm: number): void {
    this.watermark = wm;
    this.timers.advance(wm, this.fire);
    this.output.emitWatermark(wm);
  }

  private onTimer(t: Timer): void {
    this.backend.setCurrentKey(t.key, t.keyGroup);
    const ns = t.namespace;
    let w: TimeWindow;
    let stateNs: Namespace = ns;
    if (this.sessions) {
      const i = (ns as string).indexOf(":");
      w = { start: Number((ns as string).slice(0, i)), end: Number((ns as string).slice(i + 1)) };
      const open = this.sessions.value() ?? [];
      const at = open.findIndex((x) => x[0] === w.start && x[1] === w.end);
      // A session that merged into a larger one left its timer behind: nothing to fire.
      if (at < 0) return;
      stateNs = open[at][2];
      if (open.length > 1) this.sessions.update(open.filter((_x, k) => k !== at));
      else this.sessions.clear();
    } else {
      const a = this.spec.assigner as { size: number };
      w = { start: ns as number, end: (ns as number) + a.size };
    }
    let elements: Iterable<unknown>;
    if (this.acc) {
      this.acc.setCurrentNamespace(stateNs);
      const acc = this.acc.value();
      if (acc === undefined) return;
      this.acc.clear();
      this.one[0] = this.spec.agg!.getResult(acc);
      elements = this.one;
    } else {
      this.list!.setCurrentNamespace(stateNs);
      elements = this.list!.get().slice();
      if ((elements as unknown[]).length === 0) return;
      this.list!.clear();
    }
    this.current = w;
    this.currentNs = ns;
    this.outTs = w.end - 1;
    const key = decodeKey(t.key);
    this.spec.fn.process(key, this.context, elements, this);
    this.spec.fn.clear?.(this.context);
  }

  collect(value: OUT): void {
    this.output.collect(value, this.outTs);
  }

  /** ProcessWindowFunction.Context, one per operator, pointed at the window firing. */
  private readonly context: ProcessWindowContext = {
    window: () => this.current,
    currentWatermark: () => this.watermark,
    currentProcessingTime: () => this.ctx.kernel.now(),
    windowState: () => this.perWindow,
    globalState: () => this.global,
    output: (tag: OutputTag<any>, value: unknown) => this.output.collectSide(tag.id, value, this.outTs),
  };

  override endInput(): void {
    reportEndOfInput(this.ctx, this.backend, LATE, () => this.late.value(), this.timers.size());
  }

  override snapshotState(): OperatorSnapshot {
    return { keyed: this.backend.snapshot(), timers: this.timers.snapshot(), list: [] };
  }

  override close(): void {
    this.spec.fn.close?.();
  }
}

/** A plain `(key, window, result) => out` (sum / reduce / aggregate) as a window function. */
export function resultAsWindowProcess<R, OUT>(result: (key: any, window: TimeWindow, r: R) => OUT): WindowProcess<R, OUT, unknown> {
  return {
    process(key, context, elements, out) {
      for (const r of elements) out.collect(result(key, context.window(), r));
    },
  };
}

export type AnyWindowFn<IN, OUT, K> = WindowFunction<IN, OUT, K> | ProcessWindowFunction<IN, OUT, K>;

/** Both of Flink's window-function shapes as the operator's one (lifecycle calls reach the user's object). */
export function asWindowProcess<IN, OUT, K>(fn: AnyWindowFn<IN, OUT, K>): WindowProcess<IN, OUT, K> {
  if ("process" in fn && typeof fn.process === "function") return fn as ProcessWindowFunction<IN, OUT, K>;
  const wf = fn as WindowFunction<IN, OUT, K>;
  if (typeof wf.apply !== "function") throw new TypeError("window function: expected a WindowFunction (apply) or a ProcessWindowFunction (process)");
  return {
    process: (key, context, elements, out) => wf.apply(key, context.window(), elements, out),
    setRuntimeContext: (rc) => wf.setRuntimeContext?.(rc),
    open: () => wf.open?.(),
    close: () => wf.close?.(),
  };
}
