import { formatFixed } from "../engine/decimal.ts";
import type { JobExecutionResult } from "../engine/api/environment.ts";
import type { CommittedRow } from "./committed.ts";
import type { WindowRow } from "./oracle.ts";

/**
 * Checkers read what a run left behind (committed output, the run result) and return
 * {valid, message}; they compose by name. Jepsen's rule: false beats unknown beats true.
 */
export interface CheckResult {
  readonly property: string;
  readonly valid: boolean | "unknown";
  readonly message: string;
}

export const PROPERTIES = {
  oracle: "committed output equals the oracle",
  once: "each window committed once",
  restore: "every restore used the latest completed checkpoint",
  conservation: "committed + late output conserves the tape's totals",
  finished: "the job finished",
  kills: "after a process kill, the new process resumed from the latest completed checkpoint",
} as const;

const key = (symbol: string, start: number) => `${symbol}\u0000${start}`;

export function checkOracle(committed: readonly CommittedRow[], oracle: readonly WindowRow[]): CheckResult {
  const got = new Map<string, CommittedRow[]>();
  for (const r of committed) {
    const k = key(r.symbol, r.start);
    const l = got.get(k);
    if (l) l.push(r);
    else got.set(k, [r]);
  }
  const problems: string[] = [];
  for (const w of oracle) {
    const rows = got.get(key(w.symbol, w.start));
    got.delete(key(w.symbol, w.start));
    const at = `${w.symbol} [${new Date(w.start).toISOString()})`;
    if (!rows) problems.push(`${at}: missing (expected ${formatFixed(w.quantity)} over ${w.count} trades)`);
    else if (rows.length > 1) problems.push(`${at}: committed ${rows.length} times`);
    else if (rows[0].quantity !== w.quantity || rows[0].count !== w.count) {
      problems.push(`${at}: committed ${formatFixed(rows[0].quantity)} over ${rows[0].count} trades, expected ${formatFixed(w.quantity)} over ${w.count}`);
    }
  }
  for (const rows of got.values()) problems.push(`${rows[0].symbol} [${new Date(rows[0].start).toISOString()}): committed but not in the tape`);
  return {
    property: PROPERTIES.oracle,
    valid: problems.length === 0,
    message: problems.length === 0 ? `${oracle.length} windows, exact sums and counts` : `${problems.length} of ${oracle.length} windows differ: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? "; …" : ""}`,
  };
}

export function checkOnce(committed: readonly CommittedRow[]): CheckResult {
  const seen = new Map<string, number>();
  for (const r of committed) seen.set(key(r.symbol, r.start), (seen.get(key(r.symbol, r.start)) ?? 0) + 1);
  const dup = [...seen.entries()].filter(([, n]) => n > 1);
  return {
    property: PROPERTIES.once,
    valid: dup.length === 0,
    message: dup.length === 0 ? `${seen.size} windows, each committed once` : `${dup.length} windows committed more than once: ${dup.slice(0, 3).map(([k, n]) => `${k.replace("\u0000", " @")} x${n}`).join(", ")}`,
  };
}

/** From the run's history: each restore picked the newest checkpoint completed before it. */
export function checkRestores(r: JobExecutionResult): CheckResult {
  const bad: string[] = [];
  for (const ev of r.restores) {
    const before = r.checkpoints.filter((c) => c.status === "completed" && c.endTime !== undefined && c.endTime <= ev.time).map((c) => c.id);
    const skipped = new Set(ev.skipped.map((s) => s.checkpointId));
    // A resumed process (after a kill) starts out knowing the checkpoint it resumed from.
    const base = r.startedFrom && !skipped.has(r.startedFrom.checkpointId) ? r.startedFrom.checkpointId : -1;
    const expected = before.filter((id) => !skipped.has(id)).reduce((a, b) => Math.max(a, b), base);
    const got = ev.checkpointId ?? -1;
    if (got !== expected) bad.push(`restore at ${ev.time} (attempt ${ev.attempt}) used ${ev.checkpointId === null ? "no checkpoint" : `checkpoint ${got}`}, latest completed was ${expected < 0 ? "none" : expected}`);
  }
  return {
    property: PROPERTIES.restore,
    valid: bad.length === 0,
    message: bad.length === 0 ? `${r.restores.length} restores` : bad.join("; "),
  };
}

export function checkConservation(committed: readonly CommittedRow[], late: ReadonlyMap<string, { quantity: bigint; count: number }>, totals: ReadonlyMap<string, { count: number; quantity: bigint }>): CheckResult {
  const bad: string[] = [];
  const got = new Map<string, { q: bigint; n: number }>();
  for (const r of committed) {
    const g = got.get(r.symbol) ?? { q: 0n, n: 0 };
    g.q += r.quantity;
    g.n += r.count;
    got.set(r.symbol, g);
  }
  for (const [symbol, t] of totals) {
    const g = got.get(symbol) ?? { q: 0n, n: 0 };
    const l = late.get(symbol) ?? { quantity: 0n, count: 0 };
    if (g.q + l.quantity !== t.quantity || g.n + l.count !== t.count) {
      bad.push(`${symbol}: committed ${formatFixed(g.q)}/${g.n} + late ${formatFixed(l.quantity)}/${l.count} != tape ${formatFixed(t.quantity)}/${t.count}`);
    }
  }
  return { property: PROPERTIES.conservation, valid: bad.length === 0, message: bad.length === 0 ? `${totals.size} symbols balance exactly` : bad.join("; ") };
}

export function checkFinished(r: Pick<JobExecutionResult, "status" | "failureReason" | "restarts">): CheckResult {
  return {
    property: PROPERTIES.finished,
    valid: r.status === "FINISHED",
    message: r.status === "FINISHED" ? `finished after ${r.restarts} restarts` : `ended ${r.status}${r.failureReason ? `: ${r.failureReason}` : ""}`,
  };
}

/** false beats unknown beats true. */
export function compose(results: readonly CheckResult[]): boolean | "unknown" {
  if (results.some((r) => r.valid === false)) return false;
  if (results.some((r) => r.valid === "unknown")) return "unknown";
  return true;
}

/**
 * After each simulated process kill, the next process must resume from the checkpoint that
 * completed last before the kill. JobManager (memory) checkpoint storage cannot: it dies with
 * the process, and that is reported in plain words rather than passed.
 */
export function checkKills(kills: readonly { site: string; lastCompleted: number | undefined; durable: boolean; resumedFrom: number | null; diskLoss?: string }[]): CheckResult {
  const bad: string[] = [];
  for (const k of kills) {
    const expected = k.lastCompleted ?? null;
    if (!k.durable && expected !== null) {
      bad.push(`killed at ${k.site}: JobManagerCheckpointStorage keeps checkpoints in the process's memory, so the kill lost checkpoint ${expected} and the new process started from scratch`);
    } else if (k.resumedFrom !== expected) {
      bad.push(`killed at ${k.site}: the new process resumed from ${k.resumedFrom === null ? "scratch" : `checkpoint ${k.resumedFrom}`}, but the latest completed checkpoint was ${expected === null ? "none" : expected}`);
    }
  }
  return {
    property: PROPERTIES.kills,
    valid: bad.length === 0,
    message: bad.length === 0 ? `${kills.length} process kills, each resumed from the latest completed checkpoint` : bad.join("; "),
  };
}
