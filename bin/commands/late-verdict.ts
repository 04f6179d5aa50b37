import { formatFixed } from "../../engine/decimal.ts";
import type { CheckResult } from "../../scenarios/checkers.ts";
import type { CommittedRow } from "../../scenarios/committed.ts";
import type { WindowRow } from "../../scenarios/oracle.ts";

/**
 * The verdict on a recorded tape that holds late trades. The oracle groups every trade into its
 * window; the engine, as Flink does, drops a trade whose window the watermark has passed and
 * counts it in the window operator's late-data totals. On real data that is the engine working,
 * not a violation, so `replay` accepts a difference from the oracle when the late totals explain
 * it exactly:
 * - every committed window is an oracle window (none invented, none twice);
 * - no committed window holds more than the oracle's (count and quantity);
 * - per symbol, what the committed windows lack adds up to exactly the late count and quantity.
 * Anything else (a window short by more or less than the late records, a surplus) stays a violation.
 */
export interface LateExplanation {
  /** Windows that lack late trades (or are missing because all their trades were late). */
  windowsShort: number;
  count: number;
  quantity: bigint;
}

export function explainByLate(
  committed: readonly CommittedRow[],
  oracle: readonly WindowRow[],
  late: ReadonlyMap<string, { quantity: bigint; count: number }>,
): LateExplanation | undefined {
  let lateCount = 0;
  for (const l of late.values()) lateCount += l.count;
  if (lateCount === 0) return undefined;
  const want = new Map<string, WindowRow>();
  for (const w of oracle) want.set(`${w.symbol}\u0000${w.start}`, w);
  const seen = new Map<string, CommittedRow>();
  const lack = new Map<string, { q: bigint; n: number }>();
  for (const r of committed) {
    const k = `${r.symbol}\u0000${r.start}`;
    const w = want.get(k);
    if (!w || seen.has(k) || r.end !== w.end || r.count > w.count || r.quantity > w.quantity) return undefined;
    seen.set(k, r);
  }
  let windowsShort = 0;
  for (const [k, w] of want) {
    const r = seen.get(k);
    const n = w.count - (r?.count ?? 0);
    const q = w.quantity - (r?.quantity ?? 0n);
    if (n === 0 && q === 0n) continue;
    if (n === 0) return undefined; // same count, different sum: not late records
    windowsShort++;
    const s = lack.get(w.symbol) ?? { q: 0n, n: 0 };
    s.q += q;
    s.n += n;
    lack.set(w.symbol, s);
  }
  let quantity = 0n;
  for (const symbol of new Set([...lack.keys(), ...late.keys()])) {
    const a = lack.get(symbol) ?? { q: 0n, n: 0 };
    const l = late.get(symbol) ?? { quantity: 0n, count: 0 };
    if (a.n !== l.count || a.q !== l.quantity) return undefined;
    quantity += l.quantity;
  }
  return { windowsShort, count: lateCount, quantity };
}

/**
 * The oracle check, with a difference that late trades explain exactly turned into a pass that
 * says so (how many, how much, where they went). Other checks pass through unchanged.
 */
export function lateAwareChecks(
  checks: readonly CheckResult[],
  oracleProperty: string,
  committed: readonly CommittedRow[],
  oracle: readonly WindowRow[],
  late: ReadonlyMap<string, { quantity: bigint; count: number }>,
): { checks: CheckResult[]; explained?: LateExplanation } {
  const i = checks.findIndex((c) => c.property === oracleProperty);
  if (i < 0 || checks[i]!.valid !== false) return { checks: [...checks] };
  const ex = explainByLate(committed, oracle, late);
  if (!ex) return { checks: [...checks] };
  const out = [...checks];
  out[i] = {
    property: oracleProperty,
    valid: true,
    message: `${oracle.length} windows; ${oracle.length - ex.windowsShort} exact, ${ex.windowsShort} short by exactly the ${ex.count} late trades (${formatFixed(ex.quantity)}), which the window operator counted as late data instead of firing their windows again`,
  };
  return { checks: out, explained: ex };
}
