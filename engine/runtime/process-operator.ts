import type { Runnable } from "../kernel/kernel.ts";
import type {
  Collector, KeyedProcessContext, KeyedProcessFunction, OnTimerContext, ProcessContext, ProcessFunction, TimeDomain, TimerService as UserTimerService,
} from "../api/functions.ts";
import type { OutputTag } from "../api/windows.ts";
import { decodeKey } from "../state/key-encoding.ts";
import type { KeyedStateBackend, Namespace, ValueState } from "../state/keyed-state.ts";
import { MIN_WATERMARK } from "./elements.ts";
import { openFunction } from "./function-context.ts";
import { KeyGroupCache, type KeyType } from "../state/keygroups.ts";
import { AbstractStreamOperator, type OperatorSnapshot, type RestoredState } from "./operator.ts";
import { TimerService, type Timer, type TimerQueue, type TimerSnapshot } from "../state/timers.ts";

/** Flink's ProcessOperator: a ProcessFunction on a non-keyed stream (no keyed state, no timers). */
export class ProcessOperator<I, O> extends AbstractStreamOperator<I, O> implements Collector<O> {
  private ts = 0;
  constructor(private readonly fn: ProcessFunction<I, O>, private readonly attempt: number) {
    super();
  }
  override open(): void {
    openFunction(this.fn, this.ctx, this.attempt);
  }
  processElement(value: I, ts: number): void {
    this.ts = ts;
    this.fn.processElement(value, this.context, this);
  }
  collect(value: O): void {
    this.output.collect(value, this.ts);
  }
  private readonly context: ProcessContext = {
    timestamp: () => this.ts,
    timerService: () => {
      throw new Error(`${this.ctx.operatorName}: setting timers is only supported on keyed streams (use keyBy(...).process(KeyedProcessFunction))`);
    },
    output: (tag: OutputTag<any>, value: unknown) => this.output.collectSide(tag.id, value, this.ts),
  };
  override close(): void {
    this.fn.close?.();
  }
}

/** Timers of both domains share one snapshot list; the namespace says which is which. */
const EVENT: Namespace = "e";
const PROC: Namespace = "p";
const DELETED_EVENT = "deleted-event-timers";
const DELETED_PROC = "deleted-processing-timers";

function only(snaps: readonly TimerSnapshot[], ns: Namespace): TimerSnapshot[] {
  return snaps.map((g) => ({ keyGroup: g.keyGroup, timers: g.timers.filter((t) => t[2] === ns) }));
}

/**
 * Flink's KeyedProcessOperator: keyed state per key and timers per key in two domains. Event-time
 * timers fire as the watermark passes them; processing-time timers fire at their time on the
 * kernel's virtual clock (their output leaves with the task's next step or flush). Deleting a
 * timer records a tombstone in keyed state, so deletions survive a restore with the timers.
 */
export class KeyedProcessOperator<K, I, O> extends AbstractStreamOperator<I, O> implements Collector<O>, Runnable {
  private backend!: KeyedStateBackend;
  private eventTimers!: TimerQueue;
  private readonly procTimers = new TimerService();
  private keyGroups!: KeyGroupCache;
  private deletedEvent!: ValueState<number[]> & { setCurrentNamespace(ns: Namespace): void };
  private deletedProc!: ValueState<number[]> & { setCurrentNamespace(ns: Namespace): void };
  private watermark = MIN_WATERMARK;
  private ts = 0;
  private domain: TimeDomain = "EVENT_TIME";
  private closed = false;
  private timerError: unknown = undefined;
  private readonly scheduled = new Set<number>();
  private readonly fireEvent = (t: Timer) => this.onTimer(t, "EVENT_TIME");
  private readonly fireProc = (t: Timer) => this.onTimer(t, "PROCESSING_TIME");

  constructor(private readonly keySelector: (v: I) => KeyType, private readonly fn: KeyedProcessFunction<K, I, O> | ProcessFunction<I, O>, private readonly attempt: number) {
    super();
  }

  override initializeState(restored: RestoredState | undefined): void {
    const b = this.ctx.keyedBackend;
    if (!b) throw new Error(`${this.ctx.operatorName}: a KeyedProcessFunction needs a keyed stream`);
    this.backend = b;
    this.eventTimers = b.createTimerService?.() ?? new TimerService();
    this.keyGroups = new KeyGroupCache(this.ctx.maxParallelism);
    this.deletedEvent = b.getValueState(DELETED_EVENT);
    this.deletedProc = b.getValueState(DELETED_PROC);
    if (restored) {
      b.restore(restored.keyed);
      this.eventTimers.restore(only(restored.timers, EVENT), b.keyGroupRange);
      const proc = only(restored.timers, PROC);
      this.procTimers.restore(proc, b.keyGroupRange);
      for (const g of proc) {
        if (g.keyGroup < b.keyGroupRange.start || g.keyGroup > b.keyGroupRange.end) continue;
        for (const [at] of g.timers) this.schedule(at);
      }
    }
  }

  override open(): void {
    openFunction(this.fn, this.ctx, this.attempt);
  }

  private rethrow(): void {
    if (this.timerError !== undefined) {
      const e = this.timerError;
      this.timerError = undefined;
      throw e;
    }
  }

  processElement(value: I, ts: number): void {
    this.rethrow();
    const key = this.keySelector(value);
    this.backend.setCurrentKey(key, this.keyGroups.keyGroup(key));
    this.ts = ts;
    this.fn.processElement(value, this.context, this);
  }

  override processWatermark(wm: number): void {
    this.rethrow();
    this.watermark = wm;
    this.eventTimers.advance(wm, this.fireEvent);
    this.output.emitWatermark(wm);
  }

  private schedule(at: number): void {
    const now = this.ctx.kernel.now();
    const t = at < now ? now : at;
    if (this.scheduled.has(t)) return;
    this.scheduled.add(t);
    this.ctx.kernel.at(t, this);
  }

  /** A processing-time timer is due (kernel event). A failure is raised by the operator's next call. */
  run(now: number): void {
    this.scheduled.delete(now);
    if (this.closed) return;
    try {
      this.procTimers.advance(now, this.fireProc);
    } catch (e) {
      this.timerError ??= e;
    }
  }

  private onTimer(t: Timer, domain: TimeDomain): void {
    this.backend.setCurrentKey(t.key, t.keyGroup);
    const tomb = domain === "EVENT_TIME" ? this.deletedEvent : this.deletedProc;
    tomb.setCurrentNamespace("");
    const dead = tomb.value();
    if (dead !== undefined && dead.includes(t.timestamp)) {
      const rest = dead.filter((x) => x !== t.timestamp);
      if (rest.length) tomb.update(rest);
      else tomb.clear();
      return;
    }
    this.ts = t.timestamp;
    this.domain = domain;
    this.fn.onTimer(t.timestamp, this.context, this);
  }

  private register(domain: TimeDomain, at: number): void {
    const tomb = domain === "EVENT_TIME" ? this.deletedEvent : this.deletedProc;
    tomb.setCurrentNamespace("");
    const dead = tomb.value();
    if (dead !== undefined && dead.includes(at)) {
      // Re-registering a deleted timer revives it: drop the tombstone, and register (a no-op
      // when the deleted one is still queued, since a timer is registered once).
      const rest = dead.filter((x) => x !== at);
      if (rest.length) tomb.update(rest);
      else tomb.clear();
    }
    const key = this.backend.currentKey();
    const kg = this.backend.currentKeyGroup();
    if (domain === "EVENT_TIME") this.eventTimers.register(key, kg, EVENT, at);
    else {
      this.procTimers.register(key, kg, PROC, at);
      this.schedule(at);
    }
  }

  private remove(domain: TimeDomain, at: number): void {
    const tomb = domain === "EVENT_TIME" ? this.deletedEvent : this.deletedProc;
    tomb.setCurrentNamespace("");
    const dead = tomb.value() ?? [];
    if (!dead.includes(at)) tomb.update([...dead, at]);
  }

  collect(value: O): void {
    this.output.collect(value, this.ts);
  }

  private readonly timers: UserTimerService = {
    currentProcessingTime: () => this.ctx.kernel.now(),
    currentWatermark: () => this.watermark,
    registerEventTimeTimer: (t) => this.register("EVENT_TIME", t),
    registerProcessingTimeTimer: (t) => this.register("PROCESSING_TIME", t),
    deleteEventTimeTimer: (t) => this.remove("EVENT_TIME", t),
    deleteProcessingTimeTimer: (t) => this.remove("PROCESSING_TIME", t),
  };

  private readonly context: OnTimerContext<K> & KeyedProcessContext<K> = {
    timestamp: () => this.ts,
    timerService: () => this.timers,
    output: (tag: OutputTag<any>, value: unknown) => this.output.collectSide(tag.id, value, this.ts),
    getCurrentKey: () => decodeKey(this.backend.currentKey()) as K,
    timeDomain: () => this.domain,
  };

  override endInput(): void {
    this.rethrow();
  }

  override snapshotState(): OperatorSnapshot {
    this.rethrow();
    const timers = [...this.eventTimers.snapshot(), ...this.procTimers.snapshot()];
    return { keyed: this.backend.snapshot(), timers, list: [] };
  }

  override close(): void {
    this.closed = true;
    this.fn.close?.();
  }
}
