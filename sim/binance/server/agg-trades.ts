import { formatFixed } from "../../../engine/decimal.ts";
import type { Exchange, SymbolBook } from "./exchange.ts";

/**
 * Aggregate trades (`/api/v3/aggTrades`): consecutive fills with the same time, price and taker
 * side, which is how Binance groups the fills of one taker order. Ids count from the first trade
 * id; later laps of a looping tape continue them.
 */
export interface AggTrade {
  a: number; p: string; q: string; f: number; l: number; T: number; m: boolean; M: boolean;
}

interface Aggs { list: AggTrade[]; /** Tape index of each aggregate's last trade. */ last: Int32Array }
const cache = new WeakMap<SymbolBook, Aggs>();

/** The aggregates of lap 0, built once. */
export function aggTrades(b: SymbolBook): Aggs {
  let c = cache.get(b);
  if (c) return c;
  const out: AggTrade[] = [];
  const last: number[] = [];
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
    last.push(j);
    i = j + 1;
  }
  cache.set(b, (c = { list: out, last: Int32Array.from(last) }));
  return c;
}

/** Aggregate at global aggregate position k (later laps shifted). */
export function aggAt(ex: Exchange, b: SymbolBook, k: number): AggTrade {
  const aggs = aggTrades(b).list;
  if (k < aggs.length) return aggs[k];
  const lap = Math.floor(k / aggs.length);
  const x = aggs[k - lap * aggs.length];
  return { ...x, a: x.a + lap * aggs.length, f: x.f + lap * b.idSpan, l: x.l + lap * b.idSpan, T: x.T + lap * ex.period };
}

/** Number of aggregates whose last trade is among the first `published` trades (global positions). */
export function aggsPublished(b: SymbolBook, published: number): number {
  if (b.n === 0) return 0;
  const { list, last } = aggTrades(b);
  const lap = Math.floor(published / b.n);
  const local = published - lap * b.n;
  let lo = 0, hi = last.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (last[mid] < local) lo = mid + 1;
    else hi = mid;
  }
  return lap * list.length + lo;
}
