import type { JobExecutionResult } from "../engine/api/environment.ts";
import type { CommittedRow } from "./committed.ts";
import type { WindowRow } from "./oracle.ts";
import { conservationMismatch, count, fmtQuantity, timeAt, windowAt } from "../reports/messages.ts";

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
  atLeastOnce: "committed output covers the oracle (at least once)",
  once: "each window committed once",
  restore: "every restore used the latest completed checkpoint",
  conservation: "committed + late output conserves the tape's totals",
  finished: "the job finished (or gave up as its restart strategy says)",
  kills: "after a process kill, the new process resumed from the latest completed checkpoint",
  cuts: "every completed checkpoint is a consistent cut of the tape",
  failurePolicy: "the job failed over exactly when checkpoint failures exceeded the tolerable number",
  triggerPolicy: "checkpoints were triggered, expired and aborted as configured",
  restartPolicy: "the job restarted as its restart strategy says",
  retention: "the store kept the configured number of completed checkpoints",
  alignment: "tasks held input channels back only while aligning a checkpoint",
  discard: "no failed checkpoint left anything in storage",
} as const;

const key = (symbol: string, start: number) => `${symbol}\u0000${start}`;

/** Committed rows by window (symbol and start), in commit order. */
function rowsByWindow(committed: readonly CommittedRow[]): Map<string, CommittedRow[]> {
  const got = new Map<string, CommittedRow[]>();
  for (const r of committed) {
    const k = key(r.symbol, r.start);
    const l = got.get(k);
    if (l) l.push(r);
    else got.set(k, [r]);
  }
  return got;
}

/**
 * Walks the oracle's windows with the rows committed for each (undefined: none), and lists what
 * `judge` finds wrong, then every committed window the tape does not have. `partial`: the job gave
 * up as its restart strategy says (checkFinished), so a window it never committed is no problem.
 */
function compareWindows(committed: readonly CommittedRow[], oracle: readonly WindowRow[], judge: (at: string, w: WindowRow, rows: CommittedRow[]) => string | undefined, partial = false): string[] {
  const got = rowsByWindow(committed);
  const problems: string[] = [];
  for (const w of oracle) {
    const rows = got.get(key(w.symbol, w.start));
    got.delete(key(w.symbol, w.start));
    const at = windowAt(w.symbol, w.start, w.end);
    const why = rows ? judge(at, w, rows) : partial ? undefined : `${at} missing (expected ${fmtQuantity(w.quantity)} in ${count(w.count, "trade")})`;
    if (why) problems.push(why);
  }
  for (const rows of got.values()) problems.push(`${windowAt(rows[0].symbol, rows[0].start, rows[0].end)} committed but not in the tape`);
  return problems;
}

/**
 * `corrupt`: committed lines that are not window rows at all (a torn or damaged output file), by
 * `file:line: reason`. `partial`: the job gave up as configured; what it committed must be exact,
 * but not every window.
 */
export function checkOracle(committed: readonly CommittedRow[], oracle: readonly WindowRow[], corrupt: readonly string[] = [], partial = false): CheckResult {
  const problems = compareWindows(committed, oracle, (at, w, rows) => {
    if (rows.length > 1) return `${at} committed ${rows.length} times`;
    if (rows[0].quantity !== w.quantity || rows[0].count !== w.count) {
      return `${at} committed ${fmtQuantity(rows[0].quantity)} in ${count(rows[0].count, "trade")}, expected ${fmtQuantity(w.quantity)} in ${count(w.count, "trade")}`;
    }
    return undefined;
  }, partial);
  if (corrupt.length) {
    return {
      property: PROPERTIES.oracle,
      valid: false,
      message: `${count(corrupt.length, "committed line")} ${corrupt.length === 1 ? "is" : "are"} not a window row (torn or damaged output): ${corrupt.slice(0, 3).join("; ")}${corrupt.length > 3 ? "; …" : ""}${problems.length ? `; and ${problems.length} of ${count(oracle.length, "window")} differ: ${problems.slice(0, 3).join("; ")}` : ""}`,
    };
  }
  return {
    property: PROPERTIES.oracle,
    valid: problems.length === 0,
    message: problems.length === 0
      ? partial ? `${count(rowsByWindow(committed).size, "window")} of ${oracle.length} committed before the job gave up, exact sums and counts` : `${count(oracle.length, "window")}, exact sums and counts`
      : `${problems.length} of ${count(oracle.length, "window")} ${problems.length === 1 ? "differs" : "differ"}: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? "; …" : ""}`,
  };
}

/**
 * AT_LEAST_ONCE after a restore: a record that overtook a barrier is in the snapshot and is read
 * again, so a window may hold some trades twice, or be committed again holding the replayed part
 * (the watermark restarts after a restore, as in Flink). What must hold is that nothing is lost
 * and nothing invented: each window of the tape committed with at least its trades and quantity
 * over all its rows, and no window the tape does not have. (Without a restore the job is checked
 * for exactly the oracle, as under EXACTLY_ONCE.)
 */
export function checkAtLeastOnce(committed: readonly CommittedRow[], oracle: readonly WindowRow[], corrupt: readonly string[] = [], partial = false): CheckResult {
  const problems = compareWindows(committed, oracle, (at, w, rows) => {
    let quantity = 0n, n = 0;
    for (const r of rows) (quantity += r.quantity), (n += r.count);
    if (n >= w.count && quantity >= w.quantity) return undefined;
    return `${at} committed ${fmtQuantity(quantity)} in ${count(n, "trade")} over all its rows, less than the tape's ${fmtQuantity(w.quantity)} in ${count(w.count, "trade")}`;
  }, partial);
  if (corrupt.length) problems.unshift(`${count(corrupt.length, "committed line")} not a window row (torn or damaged output): ${corrupt.slice(0, 3).join("; ")}`);
  return {
    property: PROPERTIES.atLeastOnce,
    valid: problems.length === 0,
    message: problems.length === 0
      ? `${count(oracle.length, "window")}, each with at least its trades`
      : `${count(problems.length, "window")} short, missing or not in the tape (of ${count(oracle.length, "window")}): ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? "; …" : ""}`,
  };
}

export function checkOnce(committed: readonly CommittedRow[]): CheckResult {
  const seen = new Map<string, { r: CommittedRow; n: number }>();
  for (const r of committed) {
    const s = seen.get(key(r.symbol, r.start));
    if (s) s.n++;
    else seen.set(key(r.symbol, r.start), { r, n: 1 });
  }
  const dup = [...seen.values()].filter((s) => s.n > 1);
  return {
    property: PROPERTIES.once,
    valid: dup.length === 0,
    message: dup.length === 0
      ? `${count(seen.size, "window")}, each committed once`
      : `${count(dup.length, "window")} committed more than once: ${dup.slice(0, 3).map(({ r, n }) => windowAt(r.symbol, r.start, r.end, n)).join(", ")}${dup.length > 3 ? ", …" : ""}`,
  };
}

/**
 * From the run's history: each restore picked the newest checkpoint completed before it.
 * `stopSavepoints`: the run's savepoints are stops (a rescale's), which a failover restores from
 * when newer than every checkpoint; a savepoint that does not stop the job is no restore point.
 */
export function checkRestores(r: JobExecutionResult, stopSavepoints = true): CheckResult {
  const bad: string[] = [];
  for (const ev of r.restores) {
    const before = r.checkpoints.filter((c) => c.status === "completed" && c.endTime !== undefined && c.endTime <= ev.time && (stopSavepoints || !c.savepoint)).map((c) => c.id);
    const skipped = new Set(ev.skipped.map((s) => s.checkpointId));
    // A resumed process (after a kill) starts out knowing the checkpoint it resumed from.
    const base = r.startedFrom && !skipped.has(r.startedFrom.checkpointId) ? r.startedFrom.checkpointId : -1;
    const expected = before.filter((id) => !skipped.has(id)).reduce((a, b) => Math.max(a, b), base);
    const got = ev.checkpointId ?? -1;
    if (got !== expected) bad.push(`restore at ${timeAt(ev.time)} (attempt ${ev.attempt}) used ${ev.checkpointId === null ? "no checkpoint" : `checkpoint ${got}`}, latest completed was ${expected < 0 ? "none" : expected}`);
  }
  return {
    property: PROPERTIES.restore,
    valid: bad.length === 0,
    message: bad.length === 0 ? count(r.restores.length, "restore") : bad.join("; "),
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
    const why = conservationMismatch(symbol, { quantity: g.q, count: g.n }, l, t);
    if (why) bad.push(why);
  }
  return { property: PROPERTIES.conservation, valid: bad.length === 0, message: bad.length === 0 ? `${count(totals.size, "symbol")} ${totals.size === 1 ? "balances" : "balance"} exactly` : bad.join("; ") };
}

/**
 * `boundMs`: the run was stopped (CANCELED) when it had run this long past the end of its tape.
 * `gaveUp`: it ended FAILED because its restart strategy gave up, at the failure where the strategy
 * says to (the restart-policy check judged that): what Flink does, so not a liveness failure.
 */
export function checkFinished(r: Pick<JobExecutionResult, "status" | "failureReason" | "restarts">, boundMs?: number, restartBound?: number, gaveUp = false): CheckResult {
  if (gaveUp) return { property: PROPERTIES.finished, valid: true, message: `gave up after ${count(r.restarts, "restart")}, as its restart strategy says: ${r.failureReason}` };
  const message =
    r.status === "FINISHED" ? `finished after ${count(r.restarts, "restart")}`
    : r.status === "CANCELED" && restartBound !== undefined && r.restarts >= restartBound && !r.failureReason ? `still restarting after ${count(r.restarts, "restart")} in one process (its restart bound)`
    : r.status === "CANCELED" && boundMs !== undefined && !r.failureReason ? `still running ${boundMs / 60_000} minutes of virtual time after the tape ended (its liveness bound), after ${count(r.restarts, "restart")}`
    : `ended ${r.status}${r.failureReason ? `: ${r.failureReason}` : ""}`;
  return { property: PROPERTIES.finished, valid: r.status === "FINISHED", message };
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
    message: bad.length === 0 ? `${count(kills.length, "process kill")}, each resumed from the latest completed checkpoint` : bad.join("; "),
  };
}
