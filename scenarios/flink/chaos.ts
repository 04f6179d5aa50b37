import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tapeTotals, type Tape } from "../../sim/binance/tape.ts";
import { checkConservation, checkOnce, checkOracle, PROPERTIES, type CheckResult } from "../checkers.ts";
import { windowOracle } from "../oracle.ts";
import { parseFixed } from "../../engine/decimal.ts";
import { drawPlan, pointOf } from "./plan.ts";
import { runFlink, type FlinkBackend, type FlinkMode, type FlinkRunResult, type FlinkSink } from "./run.ts";

/**
 * `flinch flink chaos`: runs of the seed job on real Flink, each with a plan drawn from the
 * seed, checked with flinch's own checkers against the window oracle of the tape. A failing
 * plan is shrunk by dropping one fault at a time while the run still fails (real runs take
 * seconds, so no search beyond that).
 */
export interface FlinkChaosOptions {
  readonly classpath: string;
  readonly tape: Tape;
  readonly seed: string;
  readonly runs: number;
  readonly backend: FlinkBackend;
  readonly mode: FlinkMode;
  readonly sink: FlinkSink;
  readonly parallelism: number;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly throttleUs?: number;
  readonly bufferTimeoutMs?: number;
  readonly barrierDelayMs?: number;
  readonly watermarks?: "bounded" | "per-event";
  /** A fixed plan (replay) instead of drawing one per run. */
  readonly plan?: readonly string[];
  readonly shrink: boolean;
  /** Stop after the first failing run (a teeth check: found within N runs). */
  readonly stopAtFirstFailure?: boolean;
  readonly onRun?: (i: number, failed: boolean, run: FlinkRunResult, plan: readonly string[]) => void;
}

export interface FlinkRunVerdict {
  readonly index: number;
  readonly plan: readonly string[];
  readonly run: FlinkRunResult;
  readonly checks: CheckResult[];
}

export interface FlinkFailure {
  readonly index: number;
  readonly plan: readonly string[];
  /** The plan after shrinking (equal to plan when nothing could be dropped). */
  readonly shrunk: readonly string[];
  readonly property: string;
  readonly message: string;
}

export interface FlinkChaosResult {
  readonly verdicts: FlinkRunVerdict[];
  readonly failures: FlinkFailure[];
}

export function checkFlinkRun(tape: Tape, windowMs: number, r: FlinkRunResult): CheckResult[] {
  const late = new Map<string, { quantity: bigint; count: number }>();
  for (const l of r.late) {
    const x = late.get(l.symbol) ?? { quantity: 0n, count: 0 };
    x.quantity += parseFixed(l.quantity);
    x.count++;
    late.set(l.symbol, x);
  }
  return [
    { property: PROPERTIES.finished, valid: r.status === "FINISHED", message: r.status === "FINISHED" ? `finished after ${r.jvms} JVM(s), ${r.kills.length} kill(s)` : `ended ${r.status}: ${r.failure ?? ""}` },
    checkOracle(r.committed, windowOracle(tape, windowMs)),
    checkOnce(r.committed),
    checkConservation(r.committed, late, tapeTotals(tape)),
  ];
}

export async function flinkChaos(o: FlinkChaosOptions): Promise<FlinkChaosResult> {
  const verdicts: FlinkRunVerdict[] = [];
  const failures: FlinkFailure[] = [];
  const trades = o.tape.stats.trades;
  for (let i = 0; i < o.runs; i++) {
    const plan = o.plan ? [...o.plan] : drawPlan(`${o.seed}/${i}`, trades);
    const v = await once(o, i, plan);
    verdicts.push(v);
    const bad = v.checks.find((c) => c.valid === false);
    o.onRun?.(i, bad !== undefined, v.run, plan);
    if (!bad) continue;
    let shrunk = plan;
    if (o.shrink) {
      for (let k = 0; k < shrunk.length && shrunk.length > 0;) {
        const smaller = shrunk.filter((_, j) => j !== k);
        const again = await once(o, i, smaller);
        if (again.checks.some((c) => c.valid === false)) shrunk = smaller;
        else k++;
      }
    }
    failures.push({ index: i, plan, shrunk, property: bad.property, message: bad.message });
    if (o.stopAtFirstFailure) break;
  }
  return { verdicts, failures };
}

async function once(o: FlinkChaosOptions, i: number, plan: readonly string[]): Promise<FlinkRunVerdict> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `flinch-flink-${i}-`));
  try {
    const run = await runFlink({ classpath: o.classpath, tape: o.tape, faults: plan, backend: o.backend, mode: o.mode, sink: o.sink, parallelism: o.parallelism, intervalMs: o.intervalMs, windowMs: o.windowMs, throttleUs: o.throttleUs, bufferTimeoutMs: o.bufferTimeoutMs, barrierDelayMs: o.barrierDelayMs, watermarks: o.watermarks, workDir });
    return { index: i, plan, run, checks: checkFlinkRun(o.tape, o.windowMs, run) };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** Totals over runs for the report: faults fired per point, kills, JVMs. */
export function summarize(verdicts: readonly FlinkRunVerdict[]) {
  const faults: Record<string, number> = {};
  let kills = 0, jvms = 0, crashes = 0;
  for (const v of verdicts) {
    for (const f of v.run.fired) {
      const p = pointOf(f.split("\t")[0]);
      faults[p] = (faults[p] ?? 0) + 1;
      if (f.startsWith("crash@")) crashes++;
    }
    kills += v.run.kills.length;
    jvms += v.run.jvms;
  }
  return { faults, kills, crashes, jvms };
}
