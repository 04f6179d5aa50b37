import { formatFixed } from "../engine/decimal.ts";
import type { CommittedRow } from "../scenarios/committed.ts";
import { bySymbolThenStart } from "../scenarios/oracle.ts";

/** Plain-text tables for the terminal. */
export function windowTable(rows: readonly CommittedRow[]): string {
  const lines = ["symbol      window start (UTC)     window end (UTC)       trades        quantity"];
  for (const r of rows) {
    lines.push(
      `${r.symbol.padEnd(10)}  ${new Date(r.start).toISOString().slice(0, 19)}  ${new Date(r.end).toISOString().slice(0, 19)}  ${String(r.count).padStart(8)}  ${formatFixed(r.quantity).padStart(18)}`,
    );
  }
  return lines.join("\n");
}

export function sortRows<T extends { symbol: string; start: number }>(rows: readonly T[]): T[] {
  return [...rows].sort(bySymbolThenStart);
}
