import { Rng } from "../../engine/kernel/rng.ts";

/**
 * Fault plans for real Flink, drawn from a seed (same seed, same plans). Points are the ones
 * user code reaches inside the job, plus `checkpoint.metadata`: a kill from outside when a
 * checkpoint's `_metadata` appears on disk. Occurrences are small for the per-checkpoint points
 * (a run of a few seconds completes a few checkpoints; each passage counts once per source
 * subtask) and spread over the tape for task.process.
 */
export const INSIDE_POINTS = ["task.process", "checkpoint.source-snapshot", "checkpoint.sync-snapshot", "checkpoint.complete", "sink.pre-commit", "sink.commit", "restore"] as const;
export const FLINK_POINTS = [...INSIDE_POINTS, "checkpoint.metadata"] as const;

const FAULT = /^(crash|kill)@([a-z.-]+)#(\d+)$/;

export class FaultPlanError extends Error {
  override readonly name = "FaultPlanError";
  readonly exitCode = 2;
}

/** Parses `crash@checkpoint.complete#2,kill@checkpoint.metadata#1` (one JVM's whole plan). */
export function parseFlinkPlan(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(",")) {
    const f = raw.trim();
    if (!f) continue;
    const m = FAULT.exec(f);
    if (!m) throw new FaultPlanError(`--faults: cannot parse ${JSON.stringify(f)}: expected crash@<point>#<n> or kill@<point>#<n>`);
    if (!(FLINK_POINTS as readonly string[]).includes(m[2])) throw new FaultPlanError(`--faults: ${m[2]} is not a point real Flink reaches here; known: ${FLINK_POINTS.join(", ")}`);
    if (m[2] === "checkpoint.metadata" && m[1] !== "kill") throw new FaultPlanError(`--faults: ${f}: checkpoint.metadata is a kill from outside the JVM; use kill@checkpoint.metadata#n`);
    if (Number(m[3]) < 1) throw new FaultPlanError(`--faults: ${f}: the occurrence counts from 1`);
    out.push(f);
  }
  return out;
}

export function pointOf(fault: string): string {
  return FAULT.exec(fault)?.[2] ?? fault;
}

export function drawPlan(seed: string, trades: number): string[] {
  const rng = new Rng(`flink-plan/${seed}`);
  const n = rng.range(1, 2);
  const plan: string[] = [];
  for (let i = 0; i < n; i++) {
    const point = FLINK_POINTS[rng.int(FLINK_POINTS.length)];
    const kind = point === "checkpoint.metadata" ? "kill" : rng.chance(0.3) ? "kill" : "crash";
    const occ = point === "task.process" ? rng.range(1, Math.max(1, trades)) : point === "restore" ? 1 : point === "sink.commit" ? 1 : rng.range(1, 2);
    const f = `${kind}@${point}#${occ}`;
    if (!plan.some((p) => pointOf(p) === point)) plan.push(f);
    // A restore needs a failure before it.
    if (point === "restore" && !plan.some((p) => pointOf(p) === "task.process")) plan.push(`crash@task.process#${rng.range(1, Math.max(1, trades))}`);
  }
  return plan;
}
