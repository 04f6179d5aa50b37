import type { Tape } from "../sim/binance/tape.ts";

/**
 * The window oracle: a pure group-by of the tape by (symbol, window of trade time T), with
 * exact sums. It shares no code with the engine's window operator, so a bug there cannot
 * hide by appearing in both.
 */
export interface WindowRow {
  readonly symbol: string;
  readonly start: number;
  readonly end: number;
  readonly quantity: bigint;
  readonly count: number;
}

export function windowOracle(tape: Tape, size: number, offset = 0): WindowRow[] {
  const rows: WindowRow[] = [];
  for (const symbol of [...tape.symbols].sort()) {
    const by = new Map<number, { q: bigint; n: number }>();
    for (const t of tape.bySymbol.get(symbol) ?? []) {
      const start = t.time - ((((t.time - offset) % size) + size) % size);
      const w = by.get(start);
      if (w) {
        w.q += t.quantity;
        w.n++;
      } else by.set(start, { q: t.quantity, n: 1 });
    }
    for (const start of [...by.keys()].sort((a, b) => a - b)) {
      const w = by.get(start)!;
      rows.push({ symbol, start, end: start + size, quantity: w.q, count: w.n });
    }
  }
  return rows;
}

/** The order every window listing uses: symbol, then window start. */
export function bySymbolThenStart(a: { symbol: string; start: number }, b: { symbol: string; start: number }): number {
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.start - b.start;
}

/** Two window listings compare equal as these sorted lines: order-free, exact quantities and counts. */
export function windowLines(rows: readonly { symbol: string; start: number; quantity: bigint; count: number }[]): string[] {
  return rows.map((r) => `${r.symbol} ${r.start} ${r.quantity} ${r.count}`).sort();
}
