import type { Rng } from "../../kernel/rng.ts";
import type { Trade } from "./trade.ts";

/**
 * The recovery logic of one symbol's feed, without I/O ("sans-IO"): it is told what the live
 * connection and REST did, and answers with what to do next (connect, close, fetch a page).
 * The simulated feed drives it in virtual time and the ws/intercept transport with real
 * sockets, so the property tests in sim mode test the code that runs against the network.
 *
 * Guarantees to its caller: trades come out of `take` strictly in id order, each id once,
 * with no hole: a hole in the live stream (a drop, a reconnect, a resume after a checkpoint)
 * is filled from REST starting at last + 1, paging by `pageSize`, honouring Retry-After.
 */

export interface SymbolClientTiming {
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs, with seeded "equal jitter". */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** No frame at all for this long on an open connection: close it and reconnect. */
  stallTimeoutMs: number;
  /** How long a hole may wait for reordered frames before REST is asked. */
  gapWaitMs: number;
  /** A hole with this many later trades waiting is not reordering: ask REST at once. */
  reorderWindow: number;
  pageSize: number;
  restRetryBaseMs: number;
  restRetryMaxMs: number;
}

export const DEFAULT_TIMING: SymbolClientTiming = {
  reconnectBaseMs: 250,
  reconnectMaxMs: 30_000,
  stallTimeoutMs: 60_000,
  gapWaitMs: 500,
  reorderWindow: 64,
  pageSize: 1000,
  restRetryBaseMs: 250,
  restRetryMaxMs: 30_000,
};

export type ClientAction =
  | { readonly kind: "connect" }
  | { readonly kind: "close" }
  | { readonly kind: "fetch"; readonly fromId: number; readonly limit: number };

export type RestOutcome =
  | { readonly kind: "ok"; readonly trades: readonly Trade[] }
  | { readonly kind: "retry-after"; readonly ms: number }
  | { readonly kind: "error"; readonly what: string };

export interface SymbolClientStats {
  duplicates: number;
  malformed: number;
  connects: number;
  disconnects: number;
  stalls: number;
  restCalls: number;
  restRetryAfter: number;
  restErrors: number;
  backfilled: number;
}

export class SymbolClient {
  readonly stats: SymbolClientStats = { duplicates: 0, malformed: 0, connects: 0, disconnects: 0, stalls: 0, restCalls: 0, restRetryAfter: 0, restErrors: 0, backfilled: 0 };
  private readonly t: SymbolClientTiming;
  /** Last id handed to `ready`; undefined until the first live trade when no start is known. */
  private last: number | undefined;
  private readonly pending = new Map<number, Trade>();
  private readonly ready: Trade[] = [];
  private readyHead = 0;
  private conn: "down" | "connecting" | "open" = "down";
  private connectAt: number;
  private attempts = 0;
  private lastFrameAt = 0;
  private rest: "idle" | "inflight" = "idle";
  private restAt = -Infinity;
  private restFailures = 0;
  private holeSince = 0;
  private progressAt: number;
  private closed = false;

  /**
   * `afterId`: resume after this id (REST fills from afterId + 1). `endId`: a bounded replay
   * ends after this id. Both undefined: start at the first live trade, never end.
   */
  constructor(readonly symbol: string, now: number, afterId: number | undefined, readonly endId: number | undefined, private readonly rng: Rng, timing: Partial<SymbolClientTiming> = {}) {
    this.t = { ...DEFAULT_TIMING, ...timing };
    this.last = afterId;
    this.connectAt = now;
    this.progressAt = now;
  }

  lastId(): number | undefined {
    return this.last;
  }

  /** Every trade up to endId has been taken. */
  ended(): boolean {
    return this.endId !== undefined && this.last !== undefined && this.last >= this.endId && this.readyHead >= this.ready.length;
  }

  readyCount(): number {
    return this.ready.length - this.readyHead;
  }

  /** Moves up to `max` in-order trades into `out`; returns how many. */
  take(max: number, out: Trade[]): number {
    let n = 0;
    while (n < max && this.readyHead < this.ready.length) {
      out.push(this.ready[this.readyHead++]);
      n++;
    }
    if (this.readyHead === this.ready.length) {
      this.ready.length = 0;
      this.readyHead = 0;
    }
    return n;
  }

  // ---- what the transport reports ----

  onOpen(now: number): void {
    this.conn = "open";
    this.lastFrameAt = now;
    this.attempts = 0;
  }

  /** The connection closed or failed to open (any code): reconnect after a backoff. */
  onClose(now: number): void {
    if (this.conn === "down") return;
    this.conn = "down";
    this.stats.disconnects++;
    this.connectAt = now + this.backoff(this.attempts++, this.t.reconnectBaseMs, this.t.reconnectMaxMs);
  }

  onMalformed(now: number): void {
    this.lastFrameAt = now;
    this.stats.malformed++;
  }

  /** Any frame that is not a trade of this symbol (a reply, another stream). */
  onOtherFrame(now: number): void {
    this.lastFrameAt = now;
  }

  onLive(now: number, t: Trade): void {
    this.lastFrameAt = now;
    if (this.last === undefined) this.last = t.id - 1;
    this.offer(now, t);
  }

  onRest(now: number, r: RestOutcome, limit: number): void {
    this.rest = "idle";
    if (r.kind === "ok") {
      this.restFailures = 0;
      const before = this.last;
      for (const t of r.trades) {
        if (this.last !== undefined && t.id > this.last) this.stats.backfilled++;
        this.offer(now, t);
      }
      // A full page that moved us forward: fetch the next page at once; otherwise give the
      // exchange time to publish (or the live stream time to show up).
      const moved = this.last !== before;
      this.restAt = r.trades.length >= limit && moved ? now : now + this.t.gapWaitMs;
    } else if (r.kind === "retry-after") {
      this.stats.restRetryAfter++;
      this.restAt = now + r.ms;
    } else {
      this.stats.restErrors++;
      this.restAt = now + this.backoff(this.restFailures++, this.t.restRetryBaseMs, this.t.restRetryMaxMs);
    }
  }

  /** Stops everything: no more actions. */
  close(): void {
    this.closed = true;
  }

  // ---- what to do next ----

  /** Actions due at `now`. The transport performs them and reports back. */
  step(now: number): ClientAction[] {
    const out: ClientAction[] = [];
    if (this.closed) return out;
    if (this.ended()) {
      if (this.conn !== "down") {
        this.conn = "down";
        this.connectAt = Infinity;
        out.push({ kind: "close" });
      }
      this.connectAt = Infinity;
      return out;
    }
    if (this.conn === "open" && now >= this.lastFrameAt + this.t.stallTimeoutMs) {
      this.stats.stalls++;
      out.push({ kind: "close" });
      this.onClose(now);
    }
    if (this.conn === "down" && now >= this.connectAt) {
      this.conn = "connecting";
      this.stats.connects++;
      out.push({ kind: "connect" });
    }
    if (this.rest === "idle" && now >= this.backfillDueAt() && this.last !== undefined) {
      this.rest = "inflight";
      this.stats.restCalls++;
      out.push({ kind: "fetch", fromId: this.last + 1, limit: this.t.pageSize });
    }
    return out;
  }

  /** The earliest time `step` has something to do (Infinity: only I/O can change that). */
  wakeAt(): number {
    if (this.closed) return Infinity;
    if (this.ended()) return this.conn !== "down" ? -Infinity : Infinity;
    let w = Infinity;
    if (this.conn === "down") w = this.connectAt;
    else if (this.conn === "open") w = this.lastFrameAt + this.t.stallTimeoutMs;
    if (this.rest === "idle" && this.last !== undefined) w = Math.min(w, this.backfillDueAt());
    return w;
  }

  private backfillDueAt(): number {
    if (this.last === undefined) return Infinity;
    let due: number;
    if (this.pending.size > 0) due = this.pending.size >= this.t.reorderWindow ? this.holeSince : this.holeSince + this.t.gapWaitMs;
    else if (this.endId !== undefined && this.last < this.endId) due = this.progressAt + this.t.gapWaitMs;
    else return Infinity;
    return Math.max(due, this.restAt);
  }

  private offer(now: number, t: Trade): void {
    const last = this.last!;
    if (t.id <= last || this.pending.has(t.id) || (this.endId !== undefined && t.id > this.endId)) {
      this.stats.duplicates++;
      return;
    }
    if (t.id === last + 1) {
      this.ready.push(t);
      let l = t.id;
      const p = this.pending;
      if (p.size > 0) {
        for (let n = p.get(l + 1); n !== undefined; n = p.get(l + 1)) {
          p.delete(l + 1);
          this.ready.push(n);
          l++;
        }
      }
      this.last = l;
      this.progressAt = now;
      if (p.size > 0) this.holeSince = now;
    } else {
      if (this.pending.size === 0) this.holeSince = now;
      this.pending.set(t.id, t);
    }
  }

  private backoff(attempt: number, base: number, max: number): number {
    const d = Math.min(max, base * 2 ** Math.min(attempt, 30));
    return d / 2 + this.rng.next() * (d / 2);
  }
}
