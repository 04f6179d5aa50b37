import { tradeToPayload } from "../../../engine/connectors/binance/codec.ts";
import type { Trade } from "../../../engine/connectors/binance/trade.ts";
import { receiveTimeNs } from "../fixtures.ts";
import type { Tape } from "../tape.ts";

/**
 * The exchange behind the stream and REST endpoints: the tape, and how much of it has
 * "happened" (is published) on the exchange's own clock, whoever is listening — as on Binance.
 * - paced (`{ speed }`): trade i is published when (now - start) * speed reaches its
 *   publish time minus the tape's first. Publish time is the receive timestamp when the fixture
 *   has one, else E (running maximum).
 * - max: the market advances MAX_BATCH trades (in publish-time order over all symbols) per
 *   event-loop turn, independent of its readers; a slow reader lags behind it (its connection
 *   keeps its own position) and never slows it down, so every subscriber sees the same market.
 * The clock starts with the first client (a subscription to a tape stream or a REST call), so a
 * client that connects to a fresh server sees the tape from its first trade.
 * End of tape: "stay" (streams go quiet, connections stay open), "close" (each connection is
 * closed with 1000 "end of tape" once it has been sent everything), or "loop" (the tape plays
 * again: ids continue from the last id + 1, trade times shift by `period`, a whole number of
 * minutes, so lap k's 1m candles are lap 0's, shifted).
 * Positions are global: g = lap * n + i for the tape's trade i in lap `lap`.
 */
export type Pace = "max" | { readonly speed: number };
export type EndOfTape = "stay" | "close" | "loop";

/** Close code and reason of a stream at the end of the tape (RFC 6455 1000: normal closure). */
export const END_OF_TAPE = { code: 1000, reason: "end of tape" } as const;

export interface SymbolBook {
  readonly symbol: string;
  readonly stream: string;
  readonly trades: readonly Trade[];
  readonly n: number;
  /** Lap shift of ids: last id - first id + 1. */
  readonly idSpan: number;
  /** ms since the tape's first publish time. */
  readonly offsets: Float64Array;
  /** Running maximum of trade times (for searches by time). */
  readonly tmax: Float64Array;
  /** Raw `@trade` payload JSON of lap 0, encoded once. */
  readonly payloads: (string | undefined)[];
  /** Max pace: trades published so far (global count). */
  published: number;
  /** Payloads of later laps, two laps at most. */
  readonly lapPayloads: Map<number, string[]>;
}

/** Trades the market publishes per event-loop turn at max pace. */
export const MAX_BATCH = 4096;

export class Exchange {
  readonly books = new Map<string, SymbolBook>();
  private readonly list: SymbolBook[] = [];
  /** Lap length in ms (whole minutes, longer than the tape's trade-time and publish-time spans). */
  readonly period: number;
  /** First trade time of the tape (all symbols). */
  readonly t0: number;
  /** First publish time of the tape, ms. */
  readonly t0Pub: number;
  private readonly total: number;
  /** Max pace: book index of each position of one lap, in publish order. */
  private readonly order: Uint16Array;
  private pos = 0;
  private startedAt: number | undefined;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private stopped = false;
  /** Called (synchronously) whenever the market has advanced, and once at the end of the tape. */
  readonly listeners = new Set<() => void>();
  /** Called once when a tape that does not loop has been published completely. */
  onEnd?: () => void;
  ended = false;

  constructor(readonly tape: Tape, readonly pace: Pace, private readonly clock: () => number, readonly endOfTape: EndOfTape = "stay") {
    let t0Pub = Infinity, lastPub = -Infinity, t0 = Infinity, t1 = -Infinity;
    const pubs: number[][] = [];
    for (const s of tape.symbols) {
      const trades = tape.bySymbol.get(s) ?? [];
      let m = -Infinity;
      const p = trades.map((t) => {
        const r = receiveTimeNs(t);
        m = Math.max(m, r === undefined ? t.eventTime : Number(r / 1_000_000n));
        return m;
      });
      if (p.length) {
        t0Pub = Math.min(t0Pub, p[0]);
        lastPub = Math.max(lastPub, p[p.length - 1]);
      }
      for (const t of trades) { t0 = Math.min(t0, t.time); t1 = Math.max(t1, t.time); }
      pubs.push(p);
    }
    if (t0Pub === Infinity) t0Pub = lastPub = t0 = t1 = 0;
    this.t0 = t0;
    this.t0Pub = t0Pub;
    const minutes = Math.floor(t1 / 60_000) - Math.floor(t0 / 60_000) + 1;
    this.period = Math.max(minutes, Math.floor((lastPub - t0Pub) / 60_000) + 1) * 60_000;
    tape.symbols.forEach((s, k) => {
      const trades = tape.bySymbol.get(s) ?? [];
      const tmax = new Float64Array(trades.length);
      let m = -Infinity;
      trades.forEach((t, i) => (tmax[i] = m = Math.max(m, t.time)));
      const b: SymbolBook = {
        symbol: s, stream: `${s.toLowerCase()}@trade`, trades, n: trades.length, idSpan: trades.length ? trades[trades.length - 1].id - trades[0].id + 1 : 1,
        offsets: Float64Array.from(pubs[k], (x) => x - t0Pub), tmax, payloads: new Array(trades.length), published: 0, lapPayloads: new Map(),
      };
      this.books.set(s, b);
      this.list.push(b);
    });
    // The merged publish order of one lap (ties in symbol order), for the max-pace market.
    const all: { at: number; k: number }[] = [];
    this.list.forEach((b, k) => b.offsets.forEach((at) => all.push({ at, k })));
    all.sort((x, y) => x.at - y.at || x.k - y.k);
    this.total = all.length;
    this.order = Uint16Array.from(all, (x) => x.k);
  }

  book(symbol: string): SymbolBook | undefined {
    return this.books.get(symbol.toUpperCase());
  }

  get started(): boolean {
    return this.startedAt !== undefined;
  }

  /** Starts the market (first client). Publishes nothing synchronously: the first subscriber joins before the first trade. */
  start(now = this.clock()): void {
    if (this.startedAt !== undefined || this.stopped) return;
    this.startedAt = now;
    if (this.pace === "max") this.scheduleMax();
    else this.tickPaced();
  }

  /** Stops the market's timers (the server is closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  private scheduleMax(): void {
    this.immediate = setImmediate(() => this.tickMax()); // real-time: the max-pace market advances once per event-loop turn
  }

  private tickMax(): void {
    this.immediate = undefined;
    if (this.stopped) return;
    const loop = this.endOfTape === "loop";
    const end = loop && this.total > 0 ? Infinity : this.total;
    const stop = Math.min(end, this.pos + MAX_BATCH);
    const order = this.order, list = this.list, total = this.total;
    if (total > 0) for (let p = this.pos; p < stop; p++) list[order[p % total]].published++;
    this.pos = Math.max(this.pos, stop);
    if (this.pos >= end) this.ended = true;
    this.notify();
    if (this.ended) this.onEnd?.();
    else this.scheduleMax();
  }

  private tickPaced(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.clock();
    if (this.endOfTape !== "loop" && this.list.every((b) => this.published(b, now) >= b.n)) this.ended = true;
    this.notify();
    if (this.ended) return this.onEnd?.();
    let next = Infinity;
    for (const b of this.list) {
      const g = this.published(b, now);
      if (b.n > 0 && (this.endOfTape === "loop" || g < b.n)) next = Math.min(next, this.publishAt(b, g));
    }
    if (next < Infinity) this.timer = setTimeout(() => this.tickPaced(), Math.min(1_000, Math.max(0, next - now))); // real-time: the paced market publishes each trade at its scaled tape time
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Tape-time offset of global position g (publish clock). */
  offsetOf(b: SymbolBook, g: number): number {
    if (g < b.n) return b.offsets[g];
    const lap = Math.floor(g / b.n);
    return b.offsets[g - lap * b.n] + lap * this.period;
  }

  /** Trades of `b` published at `now` (a global count; one `now` for all books keeps their order). */
  published(b: SymbolBook, now = this.clock()): number {
    if (this.pace === "max") return b.published;
    return this.count(b, now, false);
  }

  /**
   * Where a new subscription starts: after the trades published strictly before `now`, so the
   * subscription that starts the paced clock gets the tape from its first trade.
   */
  joinAt(b: SymbolBook, now = this.clock()): number {
    if (this.pace === "max") return b.published;
    return this.count(b, now, true);
  }

  private count(b: SymbolBook, now: number, strict: boolean): number {
    if (this.startedAt === undefined || b.n === 0) return 0;
    const elapsed = (now - this.startedAt) * (this.pace as { speed: number }).speed;
    const lap = this.endOfTape === "loop" ? Math.max(0, Math.floor(elapsed / this.period)) : 0;
    const e = elapsed - lap * this.period;
    let lo = 0, hi = b.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (strict ? b.offsets[mid] < e : b.offsets[mid] <= e) lo = mid + 1;
      else hi = mid;
    }
    return lap * b.n + lo;
  }

  /** Wall time when global position g will be published (paced), for timers. */
  publishAt(b: SymbolBook, g: number): number {
    if (this.pace === "max" || this.startedAt === undefined) return Infinity;
    return this.startedAt + this.offsetOf(b, g) / this.pace.speed;
  }

  /** The exchange's clock in tape time (ms): where the market is now. */
  marketTime(now = this.clock()): number {
    if (this.startedAt === undefined) return this.t0Pub;
    if (this.pace !== "max") return Math.floor(this.t0Pub + (now - this.startedAt) * this.pace.speed);
    if (this.pos === 0) return this.t0Pub;
    const p = this.pos - 1;
    const lap = Math.floor(p / this.total);
    const b = this.list[this.order[p - lap * this.total]];
    return this.t0Pub + this.offsetOf(b, b.published - 1);
  }

  /** The trade at global position g (later laps: ids and times shifted). */
  trade(b: SymbolBook, g: number): Trade {
    if (g < b.n) return b.trades[g];
    const lap = Math.floor(g / b.n);
    const t = b.trades[g - lap * b.n];
    const dt = lap * this.period;
    return { ...t, id: t.id + lap * b.idSpan, time: t.time + dt, eventTime: t.eventTime + dt };
  }

  /** Global position of the first trade with id >= `id`. */
  positionOfId(b: SymbolBook, id: number): number {
    if (b.n === 0) return 0;
    const first = b.trades[0].id;
    const lap = this.endOfTape === "loop" ? Math.max(0, Math.floor((id - first) / b.idSpan)) : 0;
    const local = id - lap * b.idSpan;
    let lo = 0, hi = b.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b.trades[mid].id < local) lo = mid + 1;
      else hi = mid;
    }
    return lap * b.n + lo;
  }

  /** Global position of the first trade with time >= t (by the running maximum of trade times). */
  positionOfTime(b: SymbolBook, t: number): number {
    if (b.n === 0) return 0;
    const lap = this.endOfTape === "loop" ? Math.max(0, Math.floor((t - this.t0) / this.period)) : 0;
    const local = t - lap * this.period;
    let lo = 0, hi = b.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b.tmax[mid] < local) lo = mid + 1;
      else hi = mid;
    }
    return lap * b.n + lo;
  }

  /** Encodes every lap-0 payload now (a server does this at load, so sending is only writing). */
  preEncode(): void {
    for (const b of this.list) for (let i = 0; i < b.n; i++) this.payload(b, i);
  }

  payload(b: SymbolBook, g: number): string {
    if (g < b.n) return (b.payloads[g] ??= JSON.stringify(tradeToPayload(b.trades[g])));
    const lap = Math.floor(g / b.n);
    let cache = b.lapPayloads.get(lap);
    if (!cache) {
      if (b.lapPayloads.size >= 2) b.lapPayloads.delete(Math.min(...b.lapPayloads.keys()));
      b.lapPayloads.set(lap, (cache = new Array(b.n)));
    }
    const i = g - lap * b.n;
    return (cache[i] ??= JSON.stringify(tradeToPayload(this.trade(b, g))));
  }
}
