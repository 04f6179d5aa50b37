import { tradeToPayload } from "../../../engine/connectors/binance/codec.ts";
import type { Trade } from "../../../engine/connectors/binance/trade.ts";
import { formatFixed } from "../../../engine/decimal.ts";
import { receiveTimeNs } from "../fixtures.ts";
import type { Tape } from "../tape.ts";

/**
 * The exchange behind the stream and REST endpoints: the tape, and how much of it has
 * "happened" (is published) at a given moment.
 * - paced (`{ speed }`): trade i is published when (now - start) * speed reaches its
 *   publish time minus the tape's first; the clock starts at the first subscription. Publish
 *   time is the receive timestamp when the fixture has one, else E (running maximum).
 * - max: the exchange runs as fast as its fastest reader: what has been sent on any
 *   connection is published, and a new subscription joins there.
 * REST only ever sees published trades, as on the real exchange.
 */
export type Pace = "max" | { readonly speed: number };

export interface SymbolBook {
  readonly symbol: string;
  readonly stream: string;
  readonly trades: readonly Trade[];
  /** ms since the tape's first publish time. */
  readonly offsets: Float64Array;
  /** Raw `@trade` payload JSON, encoded once, on demand. */
  readonly payloads: (string | undefined)[];
  /** Max pace: index of the first unpublished trade. */
  cursor: number;
  aggs?: AggTrade[];
}

export interface AggTrade {
  a: number; p: string; q: string; f: number; l: number; T: number; m: boolean; M: boolean;
}

export class Exchange {
  readonly books = new Map<string, SymbolBook>();
  private startedAt: number | undefined;

  constructor(readonly tape: Tape, readonly pace: Pace, private readonly clock: () => number) {
    let t0 = Infinity;
    const pubs = new Map<string, number[]>();
    for (const s of tape.symbols) {
      const trades = tape.bySymbol.get(s) ?? [];
      let m = -Infinity;
      const p = trades.map((t) => {
        const r = receiveTimeNs(t);
        m = Math.max(m, r === undefined ? t.eventTime : Number(r / 1_000_000n));
        return m;
      });
      if (p.length && p[0] < t0) t0 = p[0];
      pubs.set(s, p);
    }
    for (const s of tape.symbols) {
      const p = pubs.get(s)!;
      const trades = tape.bySymbol.get(s) ?? [];
      this.books.set(s, { symbol: s, stream: `${s.toLowerCase()}@trade`, trades, offsets: Float64Array.from(p, (x) => x - t0), payloads: new Array(trades.length), cursor: 0 });
    }
  }

  book(symbol: string): SymbolBook | undefined {
    return this.books.get(symbol.toUpperCase());
  }

  /** Starts the paced clock (first subscription). */
  start(): void {
    if (this.startedAt === undefined) this.startedAt = this.clock();
  }

  /** Number of trades of `b` published at `now` (one `now` for all books keeps their order). */
  published(b: SymbolBook, now = this.clock()): number {
    return this.count(b, now, false);
  }

  /**
   * Where a new subscription starts: after the trades published strictly before `now`, so the
   * subscription that starts the paced clock gets the tape from its first trade.
   */
  joinAt(b: SymbolBook, now = this.clock()): number {
    return this.count(b, now, true);
  }

  private count(b: SymbolBook, now: number, strict: boolean): number {
    if (this.pace === "max") return b.cursor;
    if (this.startedAt === undefined) return 0;
    const elapsed = (now - this.startedAt) * this.pace.speed;
    let lo = 0, hi = b.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (strict ? b.offsets[mid] < elapsed : b.offsets[mid] <= elapsed) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** How far a connection may send now: the tape's end at max pace, else the published prefix. */
  sendable(b: SymbolBook, now = this.clock()): number {
    return this.pace === "max" ? b.trades.length : this.published(b, now);
  }

  /** A connection sent (or skipped) trade i: at max pace that publishes it. */
  sent(b: SymbolBook, i: number): void {
    if (i >= b.cursor) b.cursor = i + 1;
  }

  /** Wall time when trade i will be published (paced), for timers. */
  publishAt(b: SymbolBook, i: number): number {
    if (this.pace === "max" || this.startedAt === undefined) return Infinity;
    return this.startedAt + b.offsets[i] / this.pace.speed;
  }

  /** Encodes every payload now (a server does this at load, so sending is only writing). */
  preEncode(): void {
    for (const b of this.books.values()) for (let i = 0; i < b.trades.length; i++) this.payload(b, i);
  }

  payload(b: SymbolBook, i: number): string {
    return (b.payloads[i] ??= JSON.stringify(tradeToPayload(b.trades[i])));
  }

  /**
   * Aggregate trades: consecutive fills with the same time, price and taker side, which is
   * how Binance groups the fills of one taker order. Ids count from the first trade id.
   */
  aggTrades(b: SymbolBook): AggTrade[] {
    if (b.aggs) return b.aggs;
    const out: AggTrade[] = [];
    const tr = b.trades;
    const base = tr.length ? tr[0].id : 0;
    let i = 0;
    while (i < tr.length) {
      let j = i;
      let q = tr[i].quantity;
      while (j + 1 < tr.length && tr[j + 1].time === tr[i].time && tr[j + 1].price === tr[i].price && tr[j + 1].isBuyerMaker === tr[i].isBuyerMaker && tr[j + 1].id === tr[j].id + 1) {
        j++;
        q += tr[j].quantity;
      }
      out.push({ a: base + out.length, p: formatFixed(tr[i].price), q: formatFixed(q), f: tr[i].id, l: tr[j].id, T: tr[i].time, m: tr[i].isBuyerMaker, M: true });
      i = j + 1;
    }
    return (b.aggs = out);
  }
}
