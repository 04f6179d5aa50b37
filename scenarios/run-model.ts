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
  /**
   * The seed the user gave (--seed, or the command's default): the one the replay line repeats.
   * Without it the report falls back to the engine seed for run/replay and to the violations'
   * seed for chaos; null when neither says.
   */
  userSeed?: string | null;
  violations?: Violation[];
  /** A run over several backends or modes: one row each, shown side by side. */
  matrix?: RunModel["matrix"];
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
  const engineSeed = run.spec.seed;
  const userSeed = ctx.userSeed !== undefined ? ctx.userSeed : ctx.command === "chaos" ? (ctx.violations?.[0]?.seed ?? null) : engineSeed;
  const violations = violationsOf(run, ctx, userSeed ?? engineSeed);
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
      runId: ctx.runId, command: ctx.command, jobName: r.jobName, userSeed, engineSeed, status: r.status, failureReason: r.failureReason,
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
    checkpoints: r.checkpoints.map((c) => ({ ...c, stateBytes: c.stateBytes ?? null })),
    timeline,
    counters,
    ...(ctx.matrix?.length ? { matrix: ctx.matrix } : {}),
  };
}

/**
 * One violation per violated property, each with the replay line: the run this model shows is
 * the counterexample, so every property it violates replays with the same command (chaos
 * reports only the first violated property of a counterexample; the others are added here).
 */
function violationsOf(run: ScenarioRun, ctx: ModelContext, seed: string): Violation[] {
  const given = ctx.violations ?? [];
  const template = given[0];
  const out: Violation[] = given.map((v) => ({ ...v, engineSeed: v.engineSeed ?? (v === template ? run.spec.seed : undefined) }));
  const covered = new Set(out.map((v) => v.property));
  // A chaos run without a finding shows its calibration run; its properties are not a counterexample's.
  if (ctx.command === "chaos" && !template) return out;
  for (const c of run.checks) {
    if (c.valid !== false || covered.has(c.property)) continue;
    out.push(template
      ? { ...template, property: c.property, message: c.message, engineSeed: run.spec.seed }
      : { property: c.property, message: c.message, seed, engineSeed: run.spec.seed, replay: ctx.replay, faults: run.spec.faults as unknown[] });
  }
  return out;
}
