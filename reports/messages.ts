/**
 * The words of findings: checkers (scenarios/checkers.ts) build their messages here so every
 * report, the terminal and JUnit say the same thing the same way. Prose trims quantities
 * ("0.004"); tables keep the exact 8-decimal strings of the model.
 */

const SCALE = 100_000_000n;

/** "1 trade", "2 trades", "1,234 windows". Irregular plurals are passed in. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${groupDigits(String(n))} ${n === 1 ? one : many}`;
}

function groupDigits(int: string): string {
  const neg = int.startsWith("-");
  const digits = neg ? int.slice(1) : int;
  return (neg ? "-" : "") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A quantity for prose: bigint 1e-8 units or a decimal string, without trailing zeros
 * ("305.533", "0.004", "12"). Exact: no float is involved.
 */
export function fmtQuantity(q: bigint | string): string {
  let s: string;
  if (typeof q === "bigint") {
    const neg = q < 0n;
    const a = neg ? -q : q;
    s = `${neg ? "-" : ""}${a / SCALE}.${String(a % SCALE).padStart(8, "0")}`;
  } else {
    s = q;
  }
  if (!s.includes(".")) return s;
  s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}

/** ISO 8601 without milliseconds when they are zero: "2024-08-09T00:01:00Z". */
export function isoTime(t: number): string {
  const iso = new Date(t).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, 19)}Z` : iso;
}

/** A virtual time in prose: ISO for epoch times (exchange data), "1,500 ms" for synthetic clocks that start at 0. */
export function timeAt(t: number): string {
  return t > 1e11 && t < 1e14 ? isoTime(t) : `${groupDigits(String(t))} ms`;
}

/**
 * A window as a span of ISO times; the end repeats only the time of day when it falls on the
 * start's date: "2024-08-09T00:01:00Z–00:02:00Z".
 */
export function isoSpan(start: number, end: number): string {
  const a = isoTime(start);
  const b = isoTime(end);
  return `${a}–${a.slice(0, 11) === b.slice(0, 11) ? b.slice(11) : b}`;
}

/** A window of a symbol: "BTCUSDT 2024-08-09T00:01:00Z–00:02:00Z", with "×2" when committed twice. */
export function windowAt(symbol: string, start: number, end: number, times?: number): string {
  return `${symbol} ${isoSpan(start, end)}${times !== undefined && times !== 1 ? ` ×${times}` : ""}`;
}

export interface Totals {
  quantity: bigint;
  count: number;
}

/**
 * Why committed + late output does not add up to the tape, for one symbol, e.g.
 * "committed + late ≠ tape: 0.004 BTCUSDT quantity and 1 trade too many (tape: 305.529 in 5,169 trades)".
 * Returns null when it balances.
 */
export function conservationMismatch(symbol: string, committed: Totals, late: Totals, tape: Totals): string | null {
  const dq = committed.quantity + late.quantity - tape.quantity;
  const dn = committed.count + late.count - tape.count;
  if (dq === 0n && dn === 0) return null;
  const qty = (d: bigint) => `${fmtQuantity(d < 0n ? -d : d)} ${symbol} quantity`;
  const trades = (d: number) => count(Math.abs(d), "trade");
  let diff: string;
  if (dn === 0) diff = `${qty(dq)} too ${dq > 0n ? "much" : "little"}`;
  else if (dq === 0n) diff = `${trades(dn)} too ${dn > 0 ? "many" : "few"}`;
  else if (dq > 0n === dn > 0) diff = `${qty(dq)} and ${trades(dn)} too ${dn > 0 ? "many" : "few"}`;
  else diff = `${qty(dq)} too ${dq > 0n ? "much" : "little"} and ${trades(dn)} too ${dn > 0 ? "many" : "few"}`;
  return `committed + late ≠ tape: ${diff} (tape: ${fmtQuantity(tape.quantity)} in ${count(tape.count, "trade")})`;
}
