import type { Kernel } from "../../engine/kernel/kernel.ts";
import { Rng } from "../../engine/kernel/rng.ts";
import { FEED_ENDED, type TradeFeed, type TradeSubscription } from "../../engine/connectors/binance/feed.ts";
import { SymbolClient, type ClientAction, type RestOutcome, type SymbolClientStats, type SymbolClientTiming } from "../../engine/connectors/binance/symbol-client.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import type { Tape } from "./tape.ts";
import { frameLatency, restDecision, ToxicStream, type FeedFaultPlan, type FrameAction } from "./toxics.ts";

/**
 * The exchange in virtual time, in process. Without a fault plan the connection is perfect:
 * each trade arrives at its event time E, and a subscription that resumes after a
 * checkpointed id gets the trades after it at once. With a plan (FeedFaultPlan, see
 * toxics.ts) the feed models a live connection and REST: frames are duplicated, reordered,
 * dropped, mangled, delayed; connections drop, stall and the server restarts; REST answers
 * 429/5xx or times out. The source's recovery logic (SymbolClient, the same code the ws and
 * intercept transports run) must then rebuild the exact tape. The tape is bounded: it ends.
 */
export interface SimFeedOptions {
  plan?: FeedFaultPlan;
  /** Seed of the feed's randomness; default: the kernel's RNG forked per symbol and subscription. */
  seed?: string;
  timing?: Partial<SymbolClientTiming>;
  connectLatencyMs?: number;
  restLatencyMs?: number;
}

export class SimulatedTradeFeed implements TradeFeed {
  readonly bounded = true;
  private readonly subs = new Map<string, number>();
  private readonly pub = new Map<string, Float64Array>();
  /** Recovery counters of every faulty subscription, summed. */
  readonly stats: SymbolClientStats = { duplicates: 0, malformed: 0, connects: 0, disconnects: 0, stalls: 0, restCalls: 0, restRetryAfter: 0, restErrors: 0, backfilled: 0 };

  constructor(readonly tape: Tape, readonly options: SimFeedOptions = {}) {}

  symbols(): readonly string[] {
    return this.tape.symbols;
  }

  /** Virtual time of the first arrival: where a replay's clock starts. */
  startTime(): number {
    return tapeStartTime(this.tape);
  }

  /** Virtual time of the last trade's event time (the start time for an empty tape). */
  endTime(): number {
    let t = this.startTime();
    for (const trades of this.tape.bySymbol.values()) if (trades.length && trades[trades.length - 1].eventTime > t) t = trades[trades.length - 1].eventTime;
    return t;
  }

  subscribe(symbol: string, kernel: Kernel, afterId?: number): TradeSubscription {
    const trades = this.tape.bySymbol.get(symbol) ?? [];
    if (!this.options.plan) return perfect(trades, afterId);
    const n = (this.subs.get(symbol) ?? 0) + 1;
    this.subs.set(symbol, n);
    const rng = this.options.seed !== undefined ? new Rng(`${this.options.seed}/${symbol}/${n}`) : kernel.rng.fork(`binance-feed/${symbol}/${n}`);
    return new FaultySubscription(trades, this.publishTimes(symbol, trades), this.options, rng, kernel.now(), afterId, this.stats);
  }

  /** pub[i]: when trade i is published (the running maximum of E, since arrivals never go back). */
  private publishTimes(symbol: string, trades: readonly Trade[]): Float64Array {
    let p = this.pub.get(symbol);
    if (!p) {
      p = new Float64Array(trades.length);
      let m = -Infinity;
      for (let i = 0; i < trades.length; i++) p[i] = m = Math.max(m, trades[i].eventTime);
      this.pub.set(symbol, p);
    }
    return p;
  }
}

function firstIdAbove(trades: readonly Trade[], afterId: number): number {
  let lo = 0, hi = trades.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (trades[mid].id <= afterId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstAfter(pub: Float64Array, t: number, from = 0): number {
  let lo = from, hi = pub.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pub[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function perfect(trades: readonly Trade[], afterId?: number): TradeSubscription {
  let i = afterId === undefined ? 0 : firstIdAbove(trades, afterId);
  // Arrival times never go backwards on one connection, even if E does in a fixture.
  let floor = -Infinity;
  return {
    poll(now: number, max: number, out: Trade[]): number {
      let n = 0;
      while (i < trades.length && n < max) {
        const t = trades[i];
        const at = t.eventTime > floor ? t.eventTime : floor;
        if (at > now) return at;
        floor = at;
        out.push(t);
        i++;
        n++;
      }
      if (i >= trades.length) return FEED_ENDED;
      return trades[i].eventTime > floor ? trades[i].eventTime : floor;
    },
    close() {},
  };
}

type Timed = { at: number; action: FrameAction };

/** One simulated live connection: frames generated lazily through the toxic interpreter. */
class SimConnection {
  private readonly queue: Timed[] = [];
  private head = 0;
  private idx: number;
  private lastAt: number;
  private done = false;

  constructor(private readonly pub: Float64Array, private readonly plan: FeedFaultPlan, private readonly toxic: ToxicStream, private readonly rng: Rng, readonly openAt: number, readonly fails: boolean) {
    this.idx = firstAfter(pub, openAt);
    this.lastAt = openAt;
  }

  /** Time of the next frame or connection event. */
  nextAt(): number {
    this.fill();
    return this.head < this.queue.length ? this.queue[this.head].at : Infinity;
  }

  shift(): Timed {
    return this.queue[this.head++];
  }

  private fill(): void {
    while (this.head >= this.queue.length && !this.done) {
      this.queue.length = 0;
      this.head = 0;
      if (this.idx >= this.pub.length) {
        for (const a of this.toxic.flush()) this.queue.push({ at: this.lastAt, action: a });
        this.done = true;
        return;
      }
      const i = this.idx++;
      const at = Math.max(this.lastAt, this.pub[i] + frameLatency(this.plan, this.rng));
      for (const a of this.toxic.next(i)) {
        this.queue.push({ at: this.lastAt = Math.max(this.lastAt, at), action: a });
        if (a.kind === "stall") this.lastAt += a.ms;
        if (a.kind === "disconnect" || a.kind === "server-restart") this.done = true;
      }
      if (this.done) {
        // Nothing more on a dropped connection: cut the queue after the fault.
        const k = this.queue.findIndex((q) => q.action.kind === "disconnect" || q.action.kind === "server-restart");
        this.queue.length = k + 1;
      }
    }
  }
}

class FaultySubscription implements TradeSubscription {
  private readonly client: SymbolClient;
  private conn?: SimConnection;
  private connState: "none" | "connecting" | "open" = "none";
  private connectDoneAt = Infinity;
  private rest?: { at: number; outcome: RestOutcome; limit: number };
  private downUntil = -Infinity;
  private clock: number;
  private connNo = 0;
  private readonly restRng: Rng;
  private readonly connectLatency: number;
  private readonly restLatency: number;
  private closed = false;

  constructor(private readonly trades: readonly Trade[], private readonly pub: Float64Array, private readonly opts: SimFeedOptions, private readonly rng: Rng, now: number, afterId: number | undefined, private readonly totals: SymbolClientStats) {
    const first = trades.length ? trades[0].id : 0;
    const end = trades.length ? trades[trades.length - 1].id : -1;
    this.client = new SymbolClient(trades[0]?.symbol ?? "", now, afterId ?? first - 1, end, rng.fork("client"), opts.timing);
    this.restRng = rng.fork("rest");
    this.connectLatency = opts.connectLatencyMs ?? 20;
    this.restLatency = opts.restLatencyMs ?? 30;
    this.clock = now;
  }

  poll(now: number, max: number, out: Trade[]): number {
    if (this.trades.length === 0) return FEED_ENDED;
    this.advance(now);
    this.client.take(max, out);
    if (this.client.readyCount() > 0) return now;
    if (this.client.ended()) return FEED_ENDED;
    return this.nextAt();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    this.conn = undefined;
    const s = this.client.stats, t = this.totals;
    for (const k of Object.keys(s) as (keyof SymbolClientStats)[]) t[k] += s[k];
  }

  private nextAt(): number {
    const c = this.connState === "connecting" ? this.connectDoneAt : this.connState === "open" ? this.conn!.nextAt() : Infinity;
    return Math.max(this.clock, Math.min(c, this.rest?.at ?? Infinity, this.client.wakeAt()));
  }

  /** Runs every network event and client timer due by `now`, in time order. */
  private advance(now: number): void {
    for (;;) {
      const t = this.nextAt();
      if (t > now || this.client.ended() && this.connState === "none") break;
      this.clock = t;
      if (this.connState === "connecting" && this.connectDoneAt <= t) {
        this.connectDone(t);
      } else if (this.connState === "open" && this.conn!.nextAt() <= t) {
        this.frame(t, this.conn!.shift());
      } else if (this.rest && this.rest.at <= t) {
        const r = this.rest;
        this.rest = undefined;
        this.client.onRest(t, r.outcome, r.limit);
      }
      for (const a of this.client.step(t)) this.perform(t, a);
      if (this.client.readyCount() > 0 && t >= now) break;
    }
  }

  private connectDone(t: number): void {
    if (this.conn!.fails) {
      this.conn = undefined;
      this.connState = "none";
      this.client.onClose(t);
    } else {
      this.connState = "open";
      this.client.onOpen(t);
    }
  }

  private frame(t: number, f: Timed): void {
    const a = f.action;
    switch (a.kind) {
      case "trade": this.client.onLive(t, this.trades[a.index]); break;
      case "malformed": this.client.onMalformed(t); break;
      case "stall": break; // the silence is in the following frames' times
      case "server-restart":
      case "disconnect":
        // A restart also refuses connections and REST for a while.
        if (a.kind === "server-restart") this.downUntil = t + a.downMs;
        this.conn = undefined;
        this.connState = "none";
        this.client.onClose(t);
        break;
    }
  }

  private perform(t: number, a: ClientAction): void {
    if (a.kind === "connect") {
      const n = ++this.connNo;
      const plan = this.opts.plan!;
      this.conn = new SimConnection(this.pub, plan, new ToxicStream(plan, this.rng.fork(`conn${n}/toxics`)), this.rng.fork(`conn${n}/latency`), t + this.connectLatency, t < this.downUntil);
      this.connState = "connecting";
      this.connectDoneAt = t + this.connectLatency;
    } else if (a.kind === "close") {
      this.conn = undefined;
      this.connState = "none";
    } else {
      this.rest = { ...this.restReply(t, a.fromId, a.limit), limit: a.limit };
    }
  }

  /** What REST answers a request made at `t`, and when. Only trades published by `t` exist. */
  private restReply(t: number, fromId: number, limit: number): { at: number; outcome: RestOutcome } {
    const d = restDecision(this.opts.plan!, this.restRng);
    const at = t + this.restLatency;
    if (t < this.downUntil) return { at, outcome: { kind: "error", what: "connection refused" } };
    switch (d.kind) {
      case "429": return { at, outcome: { kind: "retry-after", ms: d.retryAfterMs } };
      case "5xx": return { at, outcome: { kind: "error", what: `HTTP ${d.status}` } };
      case "timeout": return { at: t + d.ms, outcome: { kind: "error", what: "timeout" } };
      case "ok": {
        const from = firstIdAbove(this.trades, fromId - 1);
        const out: Trade[] = [];
        for (let i = from; i < this.trades.length && out.length < limit && this.pub[i] <= t; i++) out.push(this.trades[i]);
        return { at, outcome: { kind: "ok", trades: out } };
      }
    }
  }
}

/** A tape's first event time (0 when empty): where a replay of it starts its clock. */
export function tapeStartTime(tape: Tape): number {
  let t = Infinity;
  for (const trades of tape.bySymbol.values()) if (trades.length && trades[0].eventTime < t) t = trades[0].eventTime;
  return t === Infinity ? 0 : t;
}
