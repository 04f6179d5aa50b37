import { generateTape } from "../sim/binance/generator.ts";
import { loadFixtures } from "../sim/binance/fixtures.ts";
import { tapeTotals, type Tape } from "../sim/binance/tape.ts";
import { windowOracle, type WindowRow } from "./oracle.ts";
import type { FeedSpec } from "./spec.ts";

const tapeCache = new Map<string, Tape>();

/** The scenario's tape; generated tapes depend only on the feed spec (and are cached), so every seed of a scenario sees the same exchange. */
export function tapeFor(feed: FeedSpec): Tape {
  const k = JSON.stringify(feed);
  let t = tapeCache.get(k);
  if (!t) {
    t = feed.kind === "fixture" ? loadFixtures(feed.paths, { lenient: feed.lenient, bounds: feed.bounds }) : generateTape({ seed: `tape/${k}`, symbols: feed.symbols, durationMs: feed.durationMs, ratePerSec: feed.ratePerSec });
    if (tapeCache.size > 16) tapeCache.clear();
    tapeCache.set(k, t);
  }
  return t;
}


// A tape's oracle and totals are the same for every run of a campaign: compute them once per tape.
const oracles = new WeakMap<Tape, Map<number, WindowRow[]>>();
const totals = new WeakMap<Tape, ReturnType<typeof tapeTotals>>();
export function oracleOf(tape: Tape, windowMs: number): WindowRow[] {
  let m = oracles.get(tape);
  if (!m) oracles.set(tape, (m = new Map()));
  let o = m.get(windowMs);
  if (!o) m.set(windowMs, (o = windowOracle(tape, windowMs)));
  return o;
}
export function totalsOf(tape: Tape): ReturnType<typeof tapeTotals> {
  let t = totals.get(tape);
  if (!t) totals.set(tape, (t = tapeTotals(tape)));
  return t;
}

