import { createHash } from "node:crypto";
import type { JobExecutionResult } from "../engine/api/environment.ts";
import { checkRestores, type CheckResult } from "./checkers.ts";

/** A rescaled run's two jobs, each on its own clock: restores are checked per stage. */
export function restoresOfStages(stages: JobExecutionResult[]): CheckResult {
  const rs = stages.map((s) => checkRestores(s));
  const bad = rs.filter((r) => r.valid === false);
  return { property: rs[0].property, valid: bad.length === 0, message: bad.length ? bad.map((r) => r.message).join("; ") : rs.map((r) => r.message).join("; ") };
}

/** What a stage of a rescaled run changes. */
export interface StageOptions {
  /** Take a savepoint this many ms into the feed: a stop-with-savepoint unless `stop` is false. */
  savepointAt?: number;
  stop?: boolean;
  fromSavepoint?: string;
  windowParallelism?: number;
  sourceParallelism?: number;
}

/** The two stages of a rescaled run read as one: the later result, with the earlier one's history in front. */
export function mergeResults(a: JobExecutionResult, b: JobExecutionResult): JobExecutionResult {
  return {
    ...b,
    traceHash: createHash("sha256").update(a.traceHash).update(b.traceHash).digest("hex"),
    traceLength: a.traceLength + b.traceLength,
    trace: [...a.trace, ...b.trace],
    startTime: a.startTime,
    attempts: a.attempts + b.attempts,
    restarts: a.restarts + b.restarts,
    checkpoints: [...a.checkpoints, ...b.checkpoints],
    restores: [...a.restores, ...b.restores],
    failures: [...a.failures, ...b.failures],
    reports: [...a.reports, ...b.reports],
    savepointPath: a.savepointPath,
  };
}
