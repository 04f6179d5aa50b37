import { formatFixed, parseFixed } from "../../engine/decimal.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import type { RunModel, Violation } from "../../reports/model.ts";
import { RUN_MODEL_VERSION } from "../../reports/model.ts";
import { windowOracle } from "../oracle.ts";
import { windowRows } from "../run-model.ts";
import { summarize, type FlinkChaosResult, type FlinkRunVerdict } from "./chaos.ts";

/**
 * The run model of `flinch flink chaos`, for the same report writer as `flinch chaos`. The run
 * shown is the first failing run (its drawn plan), else the last run. Real Flink has no virtual
 * clock and its fired log carries no event time, so the timeline and the checkpoint table stay
 * empty rather than hold invented times; what fired and how often the JVM restarted are in the
 * plan, the counters and the summary.
 */
export interface FlinkModelContext {
  readonly runId: string;
  /** The seed the user gave; each run's plan is drawn from `${seed}/${index}`. */
  readonly seed: string;
  readonly tape: Tape;
  /** The fixture paths, or a line saying the tape was generated. */
  readonly inputs: string[];
  readonly backend: string;
  readonly mode: string;
  readonly sink: string;
  readonly parallelism: number;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly wallMs: number;
  /** Replay line of each failure, in the order of result.failures. */
  readonly replays: readonly string[];
}

export function buildFlinkRunModel(res: FlinkChaosResult, ctx: FlinkModelContext): RunModel {
  if (res.verdicts.length === 0) throw new Error("flink chaos: no run completed, nothing to report");
  const f0 = res.failures[0];
  const shown = (f0 && res.verdicts.find((v) => v.index === f0.index)) ?? res.verdicts[res.verdicts.length - 1];
  const r = shown.run;
  const oracle = windowOracle(ctx.tape, ctx.windowMs);
  const totals = summarize(res.verdicts);
  const mine = summarize([shown]);
  const violations: Violation[] = res.failures.map((f, i) => ({
    property: f.property, message: f.message, seed: ctx.seed, engineSeed: `${ctx.seed}/${f.index}`, replay: ctx.replays[i], faults: [...f.shrunk],
  }));
  // As for `flinch chaos`: the run shown is the counterexample, so every other property it violates replays with the same line.
  const v0 = violations[0];
  if (v0) violations.splice(1, 0, ...shown.checks.filter((c) => c.valid === false && c.property !== v0.property).map((c) => ({ ...v0, property: c.property, message: c.message })));
  const late = new Map<string, { count: number; quantity: bigint }>();
  for (const l of r.late) {
    const x = late.get(l.symbol) ?? { count: 0, quantity: 0n };
    x.count++;
    x.quantity += parseFixed(l.quantity);
    late.set(l.symbol, x);
  }
  const counters: Record<string, number> = {
    "runs": res.verdicts.length,
    "runs.passed": res.verdicts.filter(passed).length,
    "faults.fired": r.fired.length,
    "flink.jvms": r.jvms,
    "flink.kills": r.kills.length,
    "flink.checkpointsRetained": r.checkpointsRetained,
    "all-runs.jvms": totals.jvms,
    "all-runs.kills": totals.kills,
    "all-runs.crashes": totals.crashes,
  };
  for (const [p, n] of Object.entries(totals.faults)) counters[`all-runs.faults.${p}`] = n;
  for (const [k, v] of Object.entries(ctx.tape.stats.skipped)) counters[`input.skipped.${k}`] = v;
  counters["input.duplicates"] = ctx.tape.stats.duplicates;
  counters["input.gaps"] = ctx.tape.stats.gaps.length;
  counters["input.quarantined"] = ctx.tape.stats.quarantined.length;
  const starts = oracle.map((w) => w.start);
  const ends = oracle.map((w) => w.end);
  return {
    version: RUN_MODEL_VERSION,
    summary: {
      runId: ctx.runId, command: "chaos", jobName: "seed job on Apache Flink (flink chaos)", userSeed: ctx.seed, engineSeed: `${ctx.seed}/${shown.index}`,
      // TIMED_OUT is the driver's own verdict (the JVM was stopped): for the report the job failed.
      status: r.status === "FINISHED" ? "FINISHED" : "FAILED", ...(r.failure ? { failureReason: r.failure } : {}),
      traceHash: "none (real Flink: no deterministic trace)", backend: ctx.backend, mode: ctx.mode, parallelism: ctx.parallelism,
      checkpointInterval: ctx.intervalMs, checkpointStorage: "filesystem (the run's work directory)",
      restartStrategy: "fixed-delay (10 attempts, 50 ms) inside the JVM; a killed JVM restarts from the newest retained checkpoint",
      inputs: ctx.inputs, trades: ctx.tape.stats.trades,
      startTime: starts.length ? Math.min(...starts) : 0, endTime: ends.length ? Math.max(...ends) : 0,
      restarts: mine.crashes + mine.kills,
      wallMs: Math.round(ctx.wallMs),
      tradesPerSec: ctx.wallMs > 0 ? Math.round((ctx.tape.stats.trades * res.verdicts.length * 1000) / ctx.wallMs) : 0,
    },
    plan: [...shown.plan],
    warnings: [
      `${ctx.sink} sink; run ${shown.index} shown (${f0 ? "the first that failed" : "the last"}): fired ${r.fired.map((f) => f.replace("\t", " in ")).join(", ") || "nothing"}`,
      // The renderers' empty-section wording ("No checkpoints were triggered", "No crashes or restarts") assumes the engine's
      // complete record; this says why those sections are empty here.
      `real Flink: Flink's checkpoint statistics are not collected and the fired log carries no event time, so the checkpoint, timeline and crash sections stay empty; this run had ${mine.crashes + mine.kills} restart(s) (${mine.crashes} in-JVM crash(es), ${r.kills.length} JVM kill(s)) and ${r.checkpointsRetained} retained checkpoint(s)`,
    ],
    properties: shown.checks.map((c) => ({ name: c.property, valid: c.valid, message: c.message })),
    violations,
    windows: windowRows(oracle, r.committed),
    late: [...late.entries()].map(([symbol, l]) => ({ symbol, count: l.count, quantity: formatFixed(l.quantity) })),
    checkpoints: [],
    timeline: [],
    counters,
    runs: res.verdicts.map((v) => {
      const bad = v.checks.find((c) => c.valid === false);
      return { seed: `${ctx.seed}/${v.index}`, faults: [...v.plan], valid: !bad, ...(bad ? { property: bad.property } : {}), traceHash: "none" };
    }),
  };
}

function passed(v: FlinkRunVerdict): boolean {
  return !v.checks.some((c) => c.valid === false);
}

