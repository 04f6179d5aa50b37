import type { Trade } from "../../engine/connectors/binance/trade.ts";

/**
 * The exchange's authoritative record: per symbol, trades in ascending id, each id once.
 * Everything that feeds the simulated exchange (generator, fixture files) ends up as a Tape,
 * and the stats say what was left out on the way so that nothing disappears without a number:
 * `lines === trades + duplicates + Σ skipped + quarantined.length` for a loaded fixture.
 */

export interface QuarantinedLine {
  file: string;
  line: number;
  reason: string;
  /** First 200 characters of the offending line. */
  text: string;
}

export interface IdGap {
  symbol: string;
  afterId: number;
  nextId: number;
}

export interface TapeStats {
  /** Non-blank input lines examined (for generated or in-memory tapes: trades offered). */
  lines: number;
  /** Trades kept in the tape. */
  trades: number;
  /** Non-trade messages by kind: reply, bookTicker, depth@100ms, csv-header, ... */
  skipped: Record<string, number>;
  /** Trades whose id was already in the tape (resent after a reconnect, or overlapping files); the first is kept. */
  duplicates: number;
  /**
   * Trades that came after a higher id of the same symbol in input order (line order within a
   * file). The tape is still sorted by id, but the reordering is counted, never silent.
   */
  reordered: number;
  /** Holes in the id sequence of a symbol, in symbol then id order. */
  gaps: IdGap[];
  /** Bad lines set aside in lenient mode. */
  quarantined: QuarantinedLine[];
}

export interface Tape {
  /** Sorted. */
  readonly symbols: readonly string[];
  /** Ascending id, each id once. */
  readonly bySymbol: ReadonlyMap<string, readonly Trade[]>;
  readonly stats: TapeStats;
}

/** What a caller knows before the trades are sorted: counts from the lines it read. */
export type TapeStatsSeed = Partial<Pick<TapeStats, "lines" | "skipped" | "duplicates" | "quarantined" | "reordered">>;

/**
 * Sorts per symbol by id, drops repeated ids (the first seen wins, even when a later copy
 * differs: a resent trade that changed would be the exchange's bug, and the tape must stay
 * a function of its input order) and records id gaps.
 */
export function buildTape(trades: Iterable<Trade>, stats: TapeStatsSeed = {}, countOrder = true): Tape {
  const groups = new Map<string, Trade[]>();
  let offered = 0;
  for (const t of trades) {
    offered++;
    let g = groups.get(t.symbol);
    if (g === undefined) groups.set(t.symbol, (g = []));
    g.push(t);
  }

  const symbols = [...groups.keys()].sort();
  const bySymbol = new Map<string, readonly Trade[]>();
  const gaps: IdGap[] = [];
  let duplicates = stats.duplicates ?? 0;
  let reordered = stats.reordered ?? 0;
  let kept = 0;
  for (const symbol of symbols) {
    const g = groups.get(symbol)!;
    // Recordings and generated tapes are almost always in order already, without repeats: then
    // the group is the tape as it is (no sort, no copy), and only its gaps need listing.
    if (strictlyAscending(g)) {
      for (let i = 1; i < g.length; i++) if (g[i]!.id > g[i - 1]!.id + 1) gaps.push({ symbol, afterId: g[i - 1]!.id, nextId: g[i]!.id });
      kept += g.length;
      bySymbol.set(symbol, Object.freeze(g));
      continue;
    }
    if (countOrder) reordered += countReordered(g);
    g.sort((a, b) => a.id - b.id); // stable: first occurrence stays first
    const out: Trade[] = [];
    let last = -1;
    for (const t of g) {
      if (out.length > 0 && t.id === last) {
        duplicates++;
        continue;
      }
      if (out.length > 0 && t.id > last + 1) gaps.push({ symbol, afterId: last, nextId: t.id });
      out.push(t);
      last = t.id;
    }
    kept += out.length;
    bySymbol.set(symbol, Object.freeze(out));
  }

  return {
    symbols: Object.freeze(symbols),
    bySymbol,
    stats: {
      lines: stats.lines ?? offered,
      trades: kept,
      skipped: { ...(stats.skipped ?? {}) },
      duplicates,
      reordered,
      gaps,
      quarantined: [...(stats.quarantined ?? [])],
    },
  };
}

/** Trades whose id is below the highest id seen before them in input order. */
function countReordered(g: readonly Trade[]): number {
  let n = 0;
  let max = -1;
  for (const t of g) {
    if (t.id < max) n++;
    else max = t.id;
  }
  return n;
}

function strictlyAscending(g: readonly Trade[]): boolean {
  for (let i = 1; i < g.length; i++) if (g[i]!.id <= g[i - 1]!.id) return false;
  return true;
}

/**
 * Several fixture files as one tape. Line counts, skips, quarantine and per-file duplicates
 * add up; ids present in more than one tape count as further duplicates (the earlier tape's
 * copy is kept); gaps are recomputed, since one file may fill another's hole.
 */
export function mergeTapes(tapes: Iterable<Tape>): Tape {
  const list = [...tapes];
  const skipped: Record<string, number> = {};
  const quarantined: QuarantinedLine[] = [];
  let lines = 0;
  let duplicates = 0;
  let reordered = 0;
  for (const t of list) {
    lines += t.stats.lines;
    duplicates += t.stats.duplicates;
    reordered += t.stats.reordered;
    for (const [k, n] of Object.entries(t.stats.skipped)) skipped[k] = (skipped[k] ?? 0) + n;
    quarantined.push(...t.stats.quarantined);
  }
  function* all(): Generator<Trade> {
    for (const t of list) yield* tapeTrades(t);
  }
  // Files may be given in any order: only the order within a file counts as reordering.
  return buildTape(all(), { lines, skipped, duplicates, quarantined, reordered }, false);
}

/** Every trade, symbol by symbol (sorted), ascending id within a symbol. */
export function* tapeTrades(tape: Tape): Generator<Trade> {
  for (const s of tape.symbols) yield* tape.bySymbol.get(s) ?? [];
}

export interface SymbolTotals {
  count: number;
  /** Exact sum of quantities, 1e-8 units. */
  quantity: bigint;
}

/** Per-symbol trade count and exact quantity: the conservation check's reference. */
export function tapeTotals(tape: Tape): Map<string, SymbolTotals> {
  const out = new Map<string, SymbolTotals>();
  for (const s of tape.symbols) {
    const trades = tape.bySymbol.get(s) ?? [];
    let q = 0n;
    for (const t of trades) q += t.quantity;
    out.set(s, { count: trades.length, quantity: q });
  }
  return out;
}
