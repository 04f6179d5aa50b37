import type { CheckpointObserver, CompletedCheckpointView } from "../engine/runtime/job-spec.ts";
import type { CheckpointReader, StateHandle } from "../engine/state/checkpoint-storage.ts";
import { decodeTaskSnapshot } from "../engine/checkpoint/snapshot-codec.ts";
import type { TaskSnapshot } from "../engine/checkpoint/subtask-checkpointer.ts";
import { IN_FLIGHT_KEY } from "../engine/checkpoint/subtask-checkpointer.ts";
import { applyDeltas } from "../engine/checkpoint/incremental.ts";
import type { InFlightBatch } from "../engine/checkpoint/checkpointed-input.ts";
import type { OperatorSnapshot } from "../engine/runtime/operator.ts";
import type { TimerSnapshot } from "../engine/state/timers.ts";
import { CapturedKeyGroup } from "../engine/state/cow-state-table.ts";
import type { KeyGroupState } from "../engine/state/keyed-state.ts";
import { decodeKey, isEncodedKey } from "../engine/state/key-encoding.ts";
import { WINDOW_STATE, type SumAcc } from "../engine/runtime/window-operator.ts";
import type { Trade } from "../engine/connectors/binance/trade.ts";
import type { SymbolOffset } from "../engine/connectors/binance/source.ts";
import type { Tape } from "../sim/binance/tape.ts";
import { count, fmtQuantity, isoTime, windowAt } from "../reports/messages.ts";
import { PROPERTIES, type CheckResult } from "./checkers.ts";

export interface CutCheckOptions {
  readonly windowMs: number;
  /** The watermark strategy's bound: a window ending later than the latest trade read less this has not fired. */
  readonly outOfOrdernessMs: number;
  /**
   * AT_LEAST_ONCE: records that overtook a barrier are in the state (and a restore reads them
   * again), so a window must hold at least the tape's trades up to the offsets, not exactly them,
   * until the first restore; a missing window is not asked about (watermarks overtake barriers
   * too). After a restore, a window may hold fewer: a watermark that overtook a barrier fired it
   * before the snapshot, and the trades after a lagging source's offset, read again, open it anew.
   */
  readonly atLeastOnce?: boolean;
  /** A damaged checkpoint is no finding (a bit flip was injected on the disk). */
  readonly tolerated?: () => boolean;
}

/**
 * Every completed checkpoint of the seed job must be a consistent cut of the tape, checked as it
 * completes, read back as a restore would read it (deltas applied to their parents):
 * - the sources' offsets say which trades were read before the barrier (a split emits in id
 *   order, so: every trade of the symbol up to its last emitted id), each symbol in one entry;
 * - each open window's contents, plus the records an unaligned barrier overtook on their way to
 *   it, must equal the tape's sum and count of that window's trades up to the offset;
 * - each open window has its firing timer in the same subtask's snapshot (contents without one
 *   are a fired window's leftovers: they would never fire again);
 * - no open window is missing: one ending after the latest trade read less the out-of-orderness
 *   cannot have fired, so if it has trades up to the offsets they must be in the checkpoint;
 * - each key group lies in its subtask's range, and in one subtask only;
 * - every checkpoint an incremental chain names is still stored.
 * Output checks see a wrong snapshot only when a failure restores it at the right moment; this
 * sees it in any run that completes the checkpoint. Under AT_LEAST_ONCE a window must hold at
 * least its trades up to the offsets (CutCheckOptions.atLeastOnce).
 */
export class ConsistentCutCheck {
  /** Every finding, in the order found (the result's message shows the first four). */
  readonly problems: string[] = [];
  private checked = 0;
  /** Per task and operator, the newest full keyed state read: what the next delta names as its parent, mostly. */
  private readonly full = new Map<string, Resolved>();

  private readonly windowMs: number;
  private readonly outOfOrdernessMs: number;
  private readonly atLeastOnce: boolean;
  private readonly tolerated: () => boolean;

  constructor(private readonly tape: Tape, o: CutCheckOptions) {
    this.windowMs = o.windowMs;
    this.outOfOrdernessMs = o.outOfOrdernessMs;
    this.atLeastOnce = o.atLeastOnce ?? false;
    this.tolerated = o.tolerated ?? (() => false);
  }

  /** Each process's completions are observed alike (the run's checkpoints are one sequence). */
  startProcess(): CheckpointObserver {
    return {
      completed: this.observe,
      // Every deploy but the run's first restores something (a failover, or a process after a kill).
      started: () => {
        if (this.deploys++ > 0) this.restored = true;
      },
    };
  }

  private deploys = 0;
  /** AT_LEAST_ONCE only: a restore read records again, so a window may be a partial re-creation. */
  private restored = false;

  readonly observe = (c: CompletedCheckpointView): void => {
    const what = `${c.savepoint ? "savepoint" : "checkpoint"} ${c.checkpointId}`;
    let found: string[];
    try {
      found = this.check(c, what);
    } catch (e) {
      if (this.tolerated()) return;
      found = [`${what} completed but does not read back: ${(e as Error).message}`];
    }
    this.checked++;
    this.problems.push(...found);
  };

  result(): CheckResult {
    const p = this.problems;
    return {
      property: PROPERTIES.cuts,
      valid: p.length === 0,
      message: p.length === 0 ? `${count(this.checked, "completed checkpoint")}, each ${this.atLeastOnce ? "covering the tape up to its offsets (at least once)" : "a consistent cut"}` : `${count(p.length, "problem")}: ${p.slice(0, 4).join("; ")}${p.length > 4 ? "; …" : ""}`,
    };
  }

  private check(c: CompletedCheckpointView, what: string): string[] {
    const id = c.checkpointId;
    const tasks = c.handles.map((h) => ({ h, snap: decodeTaskSnapshot(c.storage.readState(id, h)) }));
    const problems: string[] = [];
    const offsets = new Map<string, number>();
    for (const { snap } of tasks) {
      for (const uid in snap) {
        if (uid === IN_FLIGHT_KEY) continue;
        for (const e of snap[uid].list) {
          if (!isOffset(e)) continue;
          if (offsets.has(e.symbol)) problems.push(`${what}: the sources hold two offsets of ${e.symbol} (${offsets.get(e.symbol)} and ${e.lastId})`);
          offsets.set(e.symbol, e.lastId);
        }
      }
    }
    const parallelism = new Map<string, number>();
    for (const { h } of tasks) parallelism.set(h.vertex, Math.max(parallelism.get(h.vertex) ?? 0, h.subtask + 1));
    const owner = new Map<string, number>(); // vertex/key group -> subtask
    const windows = new Map<string, OpenWindow>();
    const inFlight = new Map<string, { symbol: string; start: number; q: bigint; n: number }>();
    for (const { snap } of tasks) inFlightSums(snap, this.windowMs, inFlight);
    for (const { h, snap } of tasks) {
      for (const uid in snap) {
        const op = snap[uid];
        if (uid === IN_FLIGHT_KEY || (op.keyed.length === 0 && !op.delta)) continue;
        const { keyed, chain } = this.keyedOf(c.storage, id, h, uid, op);
        // A restore reads every checkpoint of the chain through its metadata: each must still be stored.
        if (chain.length > 1) {
          const gone = chain.filter((x) => x !== id && !c.storage.isCompleted(x));
          if (gone.length) problems.push(`${what}: ${h.task} cannot be restored: its incremental chain ${chain.join(" <- ")} needs ${gone.length === 1 ? "checkpoint" : "checkpoints"} ${gone.join(", ")}, no longer stored`);
        }
        const range = keyGroupRange(h.subtask, parallelism.get(h.vertex)!, c.maxParallelism);
        const timers = new Map<number, TimerSnapshot["timers"]>();
        for (const t of op.timers) timers.set(t.keyGroup, t.timers);
        for (const g of keyed) {
          if (g.keyGroup < range.start || g.keyGroup > range.end) problems.push(`${what}: ${h.task} holds key group ${g.keyGroup}, outside its range ${range.start}–${range.end}`);
          const o = `${h.vertex}/${g.keyGroup}`;
          const other = owner.get(o);
          if (other !== undefined && other !== h.subtask) problems.push(`${what}: key group ${g.keyGroup} of ${h.vertex} is in the snapshots of subtasks ${other} and ${h.subtask}`);
          owner.set(o, h.subtask);
          for (const [key, start, acc] of windowRows(g)) {
            const symbol = String(isEncodedKey(key as string) ? decodeKey(key as string) : key);
            const maxTs = start + this.windowMs - 1;
            if (!timers.get(g.keyGroup)?.some(([ts, k, ns]) => ts === maxTs && k === key && ns === start)) problems.push(`${what}: ${h.task} ${windowAt(symbol, start, start + this.windowMs)} has contents but no timer to fire it`);
            windows.set(`${symbol}\u0000${start}`, { symbol, start, q: BigInt(acc.sum), n: acc.count, task: h.task });
          }
        }
      }
    }
    // Each open window, with the records in flight to it, against the tape up to the offsets.
    for (const [k, f] of inFlight) if (!windows.has(k)) windows.set(k, { symbol: f.symbol, start: f.start, q: 0n, n: 0 });
    for (const [k, w] of windows) {
      const last = offsets.get(w.symbol);
      if (last === undefined) continue; // no source holds this symbol's offset here: nothing to compare against
      const f = inFlight.get(k);
      const q = w.q + (f?.q ?? 0n), n = w.n + (f?.n ?? 0);
      const want = this.tapeUpTo(w.symbol, w.start, last);
      if (this.atLeastOnce ? !this.restored && (q < want.q || n < want.n) : q !== want.q || n !== want.n) {
        problems.push(`${what}: ${w.task ?? "in flight"} ${windowAt(w.symbol, w.start, w.start + this.windowMs)} holds ${fmtQuantity(q)} in ${count(n, "trade")}${f && w.task ? " (with the records in flight)" : ""}, the tape has ${fmtQuantity(want.q)} in ${count(want.n, "trade")} up to the sources' offset (trade id ${last})`);
      }
    }
    // Under AT_LEAST_ONCE a window task reads on past a barrier (and its watermarks) until the last one comes.
    if (!this.atLeastOnce) problems.push(...this.missing(what, offsets, windows));
    // Keep what a later delta can name as its parent: this checkpoint's full states, nothing older.
    for (const k of this.full.keys()) if (this.full.get(k)!.id < id) this.full.delete(k);
    return problems;
  }

  /**
   * The operator's full keyed state in checkpoint `id`, and the checkpoints a restore reads for it
   * (`id`, then its delta's parent and theirs): its own state, or its parent's with its delta
   * applied. A chain lies within one deployment (a deploy cuts it), so the parent's file is this
   * handle's file in the parent's directory.
   */
  private keyedOf(storage: CheckpointReader, id: number, h: StateHandle, uid: string, op: OperatorSnapshot, depth = 0): Resolved {
    const k = `${h.task}/${uid}`;
    const known = this.full.get(k);
    if (known?.id === id) return known;
    let r: Resolved = { id, keyed: op.keyed, chain: [id] };
    if (op.delta) {
      if (depth > 64) throw new Error(`${h.task}: incremental chain longer than 64 checkpoints`);
      const parent = op.delta.parent;
      let base = known?.id === parent ? known : undefined;
      if (!base) {
        const pop = decodeTaskSnapshot(storage.readState(parent, h))[uid];
        if (!pop) throw new Error(`${h.task}: parent checkpoint ${parent} has no state for operator ${uid}`);
        base = this.keyedOf(storage, parent, h, uid, pop, depth + 1);
      }
      r = { id, keyed: applyDeltas(base.keyed, [op.delta]), chain: [id, ...base.chain] };
    }
    if (!known || known.id <= id) this.full.set(k, r);
    return r;
  }

  /**
   * Windows the checkpoint lacks: the sources' watermarks are at most the latest trade time read
   * (up to the offsets) less the out-of-orderness, so a window ending after that cannot have fired;
   * if it has trades up to the offsets, its contents (or records in flight to it) must be there.
   * Not asked when a symbol has no offset (its reads are unknown) or every split has read its last
   * trade (the sources may have ended, and their final watermark fires everything).
   */
  private missing(what: string, offsets: ReadonlyMap<string, number>, windows: ReadonlyMap<string, OpenWindow>): string[] {
    let latest = -Infinity, ended = true;
    const readUpTo = new Map<string, number>(); // per symbol, the latest trade time read
    for (const symbol of this.tape.symbols) {
      const last = offsets.get(symbol);
      const trades = this.tape.bySymbol.get(symbol) ?? [];
      if (last === undefined) return [];
      if (trades.length > 0 && last < trades[trades.length - 1].id) ended = false;
      const t = symbolIndex(this.tape).get(symbol)!.maxTimeUpTo(last);
      readUpTo.set(symbol, t);
      latest = Math.max(latest, t);
    }
    if (ended || latest === -Infinity) return [];
    const horizon = latest - this.outOfOrdernessMs + 1; // a window ending after this has not fired
    const out: string[] = [];
    for (const symbol of this.tape.symbols) {
      const last = offsets.get(symbol)!;
      const upTo = readUpTo.get(symbol)!;
      for (let start = horizon - (((horizon % this.windowMs) + this.windowMs) % this.windowMs); start <= upTo; start += this.windowMs) {
        if (start + this.windowMs <= horizon || windows.has(`${symbol}\u0000${start}`)) continue;
        const want = this.tapeUpTo(symbol, start, last);
        if (want.n > 0) out.push(`${what}: ${windowAt(symbol, start, start + this.windowMs)} has no contents, though ${count(want.n, "trade")} of it (${fmtQuantity(want.q)}) came before the sources' offset and the watermark cannot have passed its end (latest trade read ${isoTime(latest)})`);
      }
    }
    return out;
  }

  /** Sum and count of the tape's trades of `symbol` in the window starting at `start` with id <= `lastId`. */
  private tapeUpTo(symbol: string, start: number, lastId: number): { q: bigint; n: number } {
    const w = windowIndex(this.tape, this.windowMs).get(symbol)?.get(start);
    if (!w) return { q: 0n, n: 0 };
    const n = countUpTo(w.ids, lastId);
    return { q: w.prefix[n], n };
  }
}

/** A window with contents in the checkpoint (`task` holds them), or with records in flight to it only. */
interface OpenWindow {
  readonly symbol: string;
  readonly start: number;
  readonly q: bigint;
  readonly n: number;
  readonly task?: string;
}

/** An operator's full keyed state in checkpoint `id`, and the checkpoints its restore reads, newest first. */
interface Resolved {
  readonly id: number;
  readonly keyed: KeyGroupState[];
  readonly chain: readonly number[];
}

/** [key, window start, accumulator] of the group's open windows, from its maps where it has them (no rows built). */
function* windowRows(g: KeyGroupState): Iterable<[unknown, number, SumAcc]> {
  if (g instanceof CapturedKeyGroup) {
    const km = g.tables.find((t) => t[0] === WINDOW_STATE)?.[1];
    if (km) for (const [key, nm] of km) for (const [ns, v] of nm) yield [key, ns as number, v as SumAcc];
    return;
  }
  for (const [key, ns, v] of g.states[WINDOW_STATE] ?? []) yield [key, ns as number, v as SumAcc];
}

/**
 * Flink's KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex, written out here rather
 * than imported: a bug in the engine's copy must not hide by appearing in the check too.
 */
function keyGroupRange(subtask: number, parallelism: number, maxParallelism: number): { start: number; end: number } {
  return { start: Math.floor((subtask * maxParallelism + parallelism - 1) / parallelism), end: Math.floor(((subtask + 1) * maxParallelism - 1) / parallelism) };
}

function isOffset(e: unknown): e is SymbolOffset {
  return typeof e === "object" && e !== null && typeof (e as SymbolOffset).symbol === "string" && typeof (e as SymbolOffset).lastId === "number";
}

/** Adds the records an unaligned barrier overtook on the way to this task, by symbol and window, to `out`. */
function inFlightSums(snap: TaskSnapshot, windowMs: number, out: Map<string, { symbol: string; start: number; q: bigint; n: number }>): void {
  for (const b of (snap[IN_FLIGHT_KEY]?.list ?? []) as InFlightBatch[]) {
    for (const v of b.values) {
      const t = v as Trade;
      if (typeof t?.symbol !== "string" || typeof t.quantity !== "bigint") continue;
      const start = windowStart(t.time, windowMs);
      const k = `${t.symbol}\u0000${start}`;
      let s = out.get(k);
      if (!s) out.set(k, (s = { symbol: t.symbol, start, q: 0n, n: 0 }));
      s.q += t.quantity;
      s.n++;
    }
  }
}

/** How many of the ascending `ids` are <= `lastId` (binary search). */
function countUpTo(ids: readonly number[], lastId: number): number {
  let lo = 0, hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] <= lastId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The start of the tumbling window of size `windowMs` (offset 0) holding event time `t`. */
const windowStart = (t: number, windowMs: number): number => t - (t % windowMs);

/** Per symbol: its trade ids (ascending, as the tape holds them) and the latest trade time up to each. */
const symbolIndexes = new WeakMap<Tape, Map<string, { maxTimeUpTo(lastId: number): number }>>();

function symbolIndex(tape: Tape): Map<string, { maxTimeUpTo(lastId: number): number }> {
  let idx = symbolIndexes.get(tape);
  if (idx) return idx;
  idx = new Map();
  for (const [symbol, trades] of tape.bySymbol) {
    const ids = trades.map((t) => t.id);
    const latest: number[] = [];
    let m = -Infinity;
    for (const t of trades) latest.push((m = Math.max(m, t.time)));
    idx.set(symbol, {
      maxTimeUpTo(lastId: number): number {
        const n = countUpTo(ids, lastId);
        return n === 0 ? -Infinity : latest[n - 1];
      },
    });
  }
  symbolIndexes.set(tape, idx);
  return idx;
}

/** Per symbol and window start: the window's trade ids (ascending) and prefix sums of their quantities. */
type WindowIndex = Map<string, Map<number, { ids: number[]; prefix: bigint[] }>>;
const indexes = new WeakMap<Tape, Map<number, WindowIndex>>();

function windowIndex(tape: Tape, windowMs: number): WindowIndex {
  let bySize = indexes.get(tape);
  if (!bySize) indexes.set(tape, (bySize = new Map()));
  let idx = bySize.get(windowMs);
  if (idx) return idx;
  idx = new Map();
  for (const [symbol, trades] of tape.bySymbol) {
    const m = new Map<number, { ids: number[]; prefix: bigint[] }>();
    for (const t of trades) {
      const start = windowStart(t.time, windowMs);
      let w = m.get(start);
      if (!w) m.set(start, (w = { ids: [], prefix: [0n] }));
      w.ids.push(t.id);
      w.prefix.push(w.prefix[w.prefix.length - 1] + t.quantity);
    }
    idx.set(symbol, m);
  }
  bySize.set(windowMs, idx);
  return idx;
}
