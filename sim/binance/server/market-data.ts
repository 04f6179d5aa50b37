import type { Trade } from "../../../engine/connectors/binance/trade.ts";
import { formatFixed, SCALE, type Fixed } from "../../../engine/decimal.ts";
import type { Exchange, SymbolBook } from "./exchange.ts";

/**
 * What Binance derives from its trades, derived here from the tape so far: 1m candles and
 * their multiples (a candle's volume is the sum of its trades' quantities, the same number as
 * the job's 1-minute window sum: a second oracle to compare by eye), 24h statistics, an order
 * book synthesised from the last trade's price, and the symbol's filters from the tape's
 * price and quantity grids. All exact (bigint fixed point) and a function of the tape and the
 * market's position only.
 */
export interface Agg {
  count: number;
  open: Fixed; high: Fixed; low: Fixed; close: Fixed;
  volume: Fixed; quoteVolume: Fixed; takerBuyVolume: Fixed; takerBuyQuoteVolume: Fixed;
  /** Global positions of the first and last trade (-1 when empty). */
  first: number; last: number;
}

/** Per-minute aggregates of one lap of a book, built once. */
interface Slots {
  m0: number;
  /** First tape index of each minute slot (M + 1 entries). */
  start: Int32Array;
  aggs: Agg[];
}

const slotCache = new WeakMap<SymbolBook, Slots>();

export const quoteOf = (t: Trade): Fixed => (t.price * t.quantity) / SCALE; // as tradeToRest's quoteQty

function empty(): Agg {
  return { count: 0, open: 0n, high: 0n, low: 0n, close: 0n, volume: 0n, quoteVolume: 0n, takerBuyVolume: 0n, takerBuyQuoteVolume: 0n, first: -1, last: -1 };
}

function addTrade(a: Agg, t: Trade, g: number): void {
  const q = quoteOf(t);
  if (a.count === 0) { a.open = a.high = a.low = t.price; a.first = g; }
  if (t.price > a.high) a.high = t.price;
  if (t.price < a.low) a.low = t.price;
  a.close = t.price;
  a.last = g;
  a.count++;
  a.volume += t.quantity;
  a.quoteVolume += q;
  if (!t.isBuyerMaker) { a.takerBuyVolume += t.quantity; a.takerBuyQuoteVolume += q; }
}

function merge(a: Agg, b: Agg, shift: number): void {
  if (b.count === 0) return;
  if (a.count === 0) { a.open = b.open; a.high = b.high; a.low = b.low; a.first = b.first + shift; }
  if (b.high > a.high) a.high = b.high;
  if (b.low < a.low) a.low = b.low;
  a.close = b.close;
  a.last = b.last + shift;
  a.count += b.count;
  a.volume += b.volume;
  a.quoteVolume += b.quoteVolume;
  a.takerBuyVolume += b.takerBuyVolume;
  a.takerBuyQuoteVolume += b.takerBuyQuoteVolume;
}

function slots(ex: Exchange, b: SymbolBook): Slots {
  let s = slotCache.get(b);
  if (s) return s;
  const m0 = Math.floor(ex.t0 / 60_000);
  const M = ex.period / 60_000;
  const start = new Int32Array(M + 1);
  const aggs: Agg[] = [];
  let i = 0;
  for (let k = 0; k < M; k++) {
    start[k] = i;
    const a = empty();
    while (i < b.n && Math.floor(b.tmax[i] / 60_000) - m0 <= k) addTrade(a, b.trades[i], i++);
    aggs.push(a);
  }
  start[M] = b.n;
  slotCache.set(b, (s = { m0, start, aggs }));
  return s;
}

/** Aggregate of the trades at global positions [from, to): whole minutes from the slots, the edges trade by trade. */
export function aggregate(ex: Exchange, b: SymbolBook, from: number, to: number): Agg {
  const a = empty();
  if (b.n === 0) return a;
  const sl = slots(ex, b);
  let g = Math.max(0, from);
  while (g < to) {
    const lap = Math.floor(g / b.n);
    const i = g - lap * b.n;
    const k = Math.floor(b.tmax[i] / 60_000) - sl.m0;
    const shift = lap * b.n;
    if (sl.start[k] === i && shift + sl.start[k + 1] <= to && sl.aggs[k].count > 0) {
      merge(a, sl.aggs[k], shift);
      g = shift + sl.start[k + 1];
    } else {
      addTrade(a, ex.trade(b, g), g);
      g++;
    }
  }
  return a;
}

/** Market "now" for candles and 24h statistics: the exchange clock, or the last trade once a tape that does not loop has ended. */
export function marketNow(ex: Exchange, b: SymbolBook, published: number): number {
  if (ex.ended && ex.endOfTape !== "loop") return published > 0 ? ex.trade(b, published - 1).time : ex.t0;
  return ex.marketTime();
}

export const INTERVALS: Record<string, number> = {
  "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
  "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000,
};

export type Kline = [number, string, string, string, string, string, number, string, number, string, string, string];

/**
 * Klines as Binance sends them, from the published trades. Candles from the one holding the
 * book's first trade to the one holding market now; a candle without trades has its open,
 * high, low and close at the previous close and volume 0. `startTime` given: `limit` candles
 * opening at or after it; else the last `limit` opening at or before `endTime` (default now).
 */
export function klines(ex: Exchange, b: SymbolBook, intervalMs: number, opts: { startTime?: number; endTime?: number; limit: number }): Kline[] {
  const published = ex.published(b);
  if (published === 0) return [];
  const firstOpen = Math.floor(b.trades[0].time / intervalMs) * intervalMs;
  const lastOpen = Math.floor(marketNow(ex, b, published) / intervalMs) * intervalMs;
  let hi = lastOpen;
  if (opts.endTime !== undefined) hi = Math.min(hi, Math.floor(opts.endTime / intervalMs) * intervalMs);
  let lo = firstOpen;
  if (opts.startTime !== undefined) lo = Math.max(lo, Math.ceil(opts.startTime / intervalMs) * intervalMs);
  if (hi < lo) return [];
  if (opts.startTime !== undefined) hi = Math.min(hi, lo + (opts.limit - 1) * intervalMs);
  else lo = Math.max(lo, hi - (opts.limit - 1) * intervalMs);
  const out: Kline[] = [];
  let g = Math.min(published, ex.positionOfTime(b, lo));
  for (let o = lo; o <= hi; o += intervalMs) {
    const end = Math.min(published, ex.positionOfTime(b, o + intervalMs));
    const a = aggregate(ex, b, g, end);
    if (a.count === 0) {
      if (g === 0) { g = end; continue; } // before the book's first trade
      a.open = a.high = a.low = a.close = ex.trade(b, g - 1).price;
    }
    out.push([o, formatFixed(a.open), formatFixed(a.high), formatFixed(a.low), formatFixed(a.close), formatFixed(a.volume), o + intervalMs - 1,
      formatFixed(a.quoteVolume), a.count, formatFixed(a.takerBuyVolume), formatFixed(a.takerBuyQuoteVolume), "0"]);
    g = end;
  }
  return out;
}

/** The price and quantity grids of a symbol, from its tape: the largest power of ten dividing every value. */
export interface Grid { tick: Fixed; step: Fixed; maxPrice: Fixed; maxQty: Fixed }
const gridCache = new WeakMap<SymbolBook, Grid>();

export function grid(b: SymbolBook): Grid {
  let g = gridCache.get(b);
  if (g) return g;
  const unit = (values: Iterable<Fixed>) => {
    let u = SCALE;
    for (const v of values) while (u > 1n && v % u !== 0n) u /= 10n;
    return u;
  };
  const pow10Above = (v: Fixed) => {
    let p = SCALE;
    while (p <= v) p *= 10n;
    return p;
  };
  let maxP = 0n, maxQ = 0n;
  for (const t of b.trades) { if (t.price > maxP) maxP = t.price; if (t.quantity > maxQ) maxQ = t.quantity; }
  g = { tick: unit(b.trades.map((t) => t.price)), step: unit(b.trades.map((t) => t.quantity)), maxPrice: pow10Above(maxP * 10n), maxQty: pow10Above(maxQ * 100n) };
  gridCache.set(b, g);
  return g;
}

/**
 * A book synthesised from the tape: the best bid and ask straddle the last published trade
 * (a trade where the buyer made the market hit the bid, so the bid is at its price and the ask
 * a tick above; otherwise the ask is at its price), levels a tick apart, and level k's quantity
 * is that of the k-th trade before it. lastUpdateId is the last published trade's id.
 */
export function depth(ex: Exchange, b: SymbolBook, limit: number): { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] } {
  if (b.n === 0) return { lastUpdateId: 0, bids: [], asks: [] };
  const published = ex.published(b);
  const g = Math.max(0, published - 1);
  const t = ex.trade(b, g);
  const { tick } = grid(b);
  const bid = t.isBuyerMaker ? t.price : t.price - tick;
  const ask = bid + tick;
  const qty = (k: number) => b.trades[(((g - k) % b.n) + b.n) % b.n].quantity;
  const bids: [string, string][] = [], asks: [string, string][] = [];
  for (let k = 0; k < limit; k++) {
    const p = bid - BigInt(k) * tick;
    if (p <= 0n) break;
    bids.push([formatFixed(p), formatFixed(qty(k))]);
  }
  for (let k = 0; k < limit; k++) asks.push([formatFixed(ask + BigInt(k) * tick), formatFixed(qty(k + limit))]);
  return { lastUpdateId: published > 0 ? t.id : b.trades[0].id - 1, bids, asks };
}

const pct = (change: Fixed, open: Fixed): string => {
  if (open === 0n) return "0.000";
  const v = (change * 100_000n) / open; // thousandths of a percent
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? "-" : ""}${a / 1000n}.${(a % 1000n).toString().padStart(3, "0")}`;
};

/** Binance's 24hr ticker (FULL or MINI) over the trades of the 24 hours up to market now. */
export function ticker24h(ex: Exchange, b: SymbolBook, full: boolean): Record<string, unknown> {
  const published = ex.published(b);
  const now = marketNow(ex, b, published);
  const openTime = now - 86_400_000;
  const from = Math.min(published, ex.positionOfTime(b, openTime + 1));
  const a = aggregate(ex, b, from, published);
  const f = formatFixed;
  const firstId = a.count ? ex.trade(b, a.first).id : -1;
  const last = a.count ? ex.trade(b, a.last) : undefined;
  const mini = { symbol: b.symbol, openPrice: f(a.open), highPrice: f(a.high), lowPrice: f(a.low), lastPrice: f(a.close), volume: f(a.volume), quoteVolume: f(a.quoteVolume), openTime, closeTime: now, firstId, lastId: last ? last.id : -1, count: a.count };
  if (!full) return mini;
  const book = depth(ex, b, 1);
  return {
    symbol: b.symbol, priceChange: f(a.close - a.open), priceChangePercent: pct(a.close - a.open, a.open),
    weightedAvgPrice: f(a.volume > 0n ? (a.quoteVolume * SCALE) / a.volume : 0n), prevClosePrice: f(from > 0 ? ex.trade(b, from - 1).price : 0n),
    lastPrice: f(a.close), lastQty: f(last ? last.quantity : 0n),
    bidPrice: book.bids[0]?.[0] ?? f(0n), bidQty: book.bids[0]?.[1] ?? f(0n), askPrice: book.asks[0]?.[0] ?? f(0n), askQty: book.asks[0]?.[1] ?? f(0n),
    openPrice: f(a.open), highPrice: f(a.high), lowPrice: f(a.low), volume: f(a.volume), quoteVolume: f(a.quoteVolume),
    openTime, closeTime: now, firstId, lastId: mini.lastId, count: a.count,
  };
}

/** `ticker/price`: the last published trade's price. */
export function priceTicker(ex: Exchange, b: SymbolBook): { symbol: string; price: string } {
  const n = ex.published(b);
  return { symbol: b.symbol, price: formatFixed(n > 0 ? ex.trade(b, n - 1).price : 0n) };
}

/** `ticker/bookTicker`: the top of the synthesised book. */
export function bookTicker(ex: Exchange, b: SymbolBook): Record<string, string> {
  const d = depth(ex, b, 1);
  const z = formatFixed(0n);
  return { symbol: b.symbol, bidPrice: d.bids[0]?.[0] ?? z, bidQty: d.bids[0]?.[1] ?? z, askPrice: d.asks[0]?.[0] ?? z, askQty: d.asks[0]?.[1] ?? z };
}

/** `avgPrice`: the volume-weighted price of the last 5 minutes' trades, as Binance computes it. */
export function avgPrice(ex: Exchange, b: SymbolBook): { mins: number; price: string; closeTime: number } {
  const n = ex.published(b);
  const now = marketNow(ex, b, n);
  const a = aggregate(ex, b, Math.min(n, ex.positionOfTime(b, now - 5 * 60_000 + 1)), n);
  return { mins: 5, price: formatFixed(a.volume > 0n ? (a.quoteVolume * SCALE) / a.volume : 0n), closeTime: a.count ? ex.trade(b, a.last).time : now };
}
