import { formatFixed } from "../engine/decimal.ts";
import { describeRestartStrategy } from "../engine/api/restart-strategies.ts";
import type { RunModel, TimelineEvent, Violation, WindowResultRow } from "../reports/model.ts";
import { RUN_MODEL_VERSION } from "../reports/model.ts";
import type { ChaosResult } from "./chaos.ts";
import type { CommittedRow } from "./committed.ts";
import { bySymbolThenStart, type WindowRow } from "./oracle.ts";
import type { ScenarioRun } from "./run-scenario.ts";

/** Expected vs committed per (symbol, window), with the status a report highlights. */
export function windowRows(oracle: readonly WindowRow[], committed: readonly CommittedRow[]): WindowResultRow[] {
  const by = new Map<string, { e?: WindowRow; c: CommittedRow[] }>();
  const k = (s: string, t: number) => `${s}\u0000${t}`;
  for (const e of oracle) by.set(k(e.symbol, e.start), { e, c: [] });
  for (const c of committed) {
    const x = by.get(k(c.symbol, c.start)) ?? { c: [] };
    x.c.push(c);
    by.set(k(c.symbol, c.start), x);
  }
  const rows: WindowResultRow[] = [];
  for (const { e, c } of by.values()) {
    const first = c[0];
    const symbol = e?.symbol ?? first.symbol;
    const start = e?.start ?? first.start;
    const status: WindowResultRow["status"] = !e ? "unexpected" : c.length === 0 ? "missing" : c.length > 1 ? "duplicate" : first.quantity !== e.quantity || first.count !== e.count ? "wrong-sum" : "ok";
    rows.push({
      symbol, start, end: e?.end ?? first.end,
      expectedQuantity: e ? formatFixed(e.quantity) : null, expectedCount: e?.count ?? null,
      committedQuantity: first ? formatFixed(c.reduce((a, r) => a + r.quantity, 0n)) : null,
      committedCount: first ? c.reduce((a, r) => a + r.count, 0) : null,
      commits: c.length, status,
    });
  }
  return rows.sort(bySymbolThenStart);
}

export interface ModelContext {
  runId: string;
  command: RunModel["summary"]["command"];
  inputs: string[];
  wallMs: number;
  replay: string;
  violations?: Violation[];
  chaos?: ChaosResult;
}

/** The run model of one scenario run (and, for chaos, the summary of all its runs). */
export function buildRunModel(run: ScenarioRun, ctx: ModelContext): RunModel {
  const r = run.result;
  const j = run.spec.job;
  const timeline: TimelineEvent[] = [];
  for (const c of r.checkpoints) timeline.push({ kind: "checkpoint", time: c.triggerTime, endTime: c.endTime, id: c.id, status: c.status });
  for (const f of r.failures) {
    const fired = run.fired.find((x) => x.site.time === f.time);
    timeline.push({ kind: "crash", time: f.time, task: f.task, point: fired && "point" in fired.fault ? fired.fault.point : undefined, error: f.error });
  }
  for (const e of r.restores) timeline.push({ kind: "restart", time: e.time, attempt: e.attempt, checkpointId: e.checkpointId });
  timeline.sort((a, b) => a.time - b.time);
  const violations: Violation[] = ctx.violations ?? run.checks.filter((c) => c.valid === false).map((c) => ({
    property: c.property, message: c.message, seed: run.spec.seed, replay: ctx.replay, faults: run.spec.faults as unknown[],
  }));
  const counters: Record<string, number> = { ...r.counters };
  for (const [k, v] of Object.entries(run.tape.stats.skipped)) counters[`input.skipped.${k}`] = v;
  counters["input.duplicates"] = run.tape.stats.duplicates;
  counters["input.gaps"] = run.tape.stats.gaps.length;
  counters["input.quarantined"] = run.tape.stats.quarantined.length;
  counters["faults.fired"] = run.fired.length;
  for (const [k, v] of Object.entries(run.feedStats)) counters[`feed.${k}`] = v;
  return {
    version: RUN_MODEL_VERSION,
    summary: {
      runId: ctx.runId, command: ctx.command, jobName: r.jobName, seed: run.spec.seed, status: r.status, failureReason: r.failureReason,
      traceHash: ctx.chaos?.traceHash ?? r.traceHash, backend: j.backend, mode: j.mode, parallelism: Math.max(j.sourceParallelism, j.windowParallelism),
      checkpointInterval: j.checkpointIntervalMs, checkpointStorage: r.checkpointStorage, restartStrategy: describeRestartStrategy(j.restart),
      inputs: ctx.inputs, trades: run.tape.stats.trades, startTime: r.startTime, endTime: r.endTime, restarts: r.restarts,
      wallMs: Math.round(ctx.wallMs), tradesPerSec: ctx.wallMs > 0 ? Math.round((run.tape.stats.trades / ctx.wallMs) * 1000) : 0,
    },
    plan: [...r.plan],
    warnings: [...run.warnings],
    properties: run.checks.map((c) => ({ name: c.property, valid: c.valid, message: c.message })),
    violations,
    windows: windowRows(run.oracle, run.committed),
    late: [...run.late.entries()].map(([symbol, l]) => ({ symbol, count: l.count, quantity: formatFixed(l.quantity) })),
    checkpoints: r.checkpoints.map((c) => ({ ...c })),
    timeline,
    counters,
  };
}
