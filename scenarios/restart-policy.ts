import { describeRestartStrategy as describe, type RestartStrategy } from "../engine/api/restart-strategies.ts";
import type { ProcessRecord } from "./process-checks.ts";
import { count } from "../reports/messages.ts";
import { PROPERTIES } from "./checkers.ts";
import { PropertyCheck } from "./property-check.ts";

/** What the strategy says at one failure: restart between `min` and `max` ms later, or give up. */
type Decision = { readonly restart: true; readonly min: number; readonly max: number } | { readonly restart: false };

/**
 * Flink's RestartBackoffTimeStrategy rules, written out here rather than imported (the engine's
 * RestartBackoff must not be what it is checked against): one instance per process, told of each
 * failure in order.
 */
class StrategyModel {
  private failures = 0;
  private readonly recent: number[] = [];
  private backoff = 0;
  private last = -Infinity;

  constructor(private readonly s: RestartStrategy) {}

  onFailure(t: number): Decision {
    const s = this.s;
    this.failures++;
    switch (s.kind) {
      case "none": return { restart: false };
      // `attempts` restarts in the process's life: the failure after the last one ends the job.
      case "fixed-delay": return this.failures > s.attempts ? { restart: false } : { restart: true, min: s.delay, max: s.delay };
      // More than `maxFailures` failures within the last `interval` ms, both ends included, end the job.
      case "failure-rate": {
        this.recent.push(t);
        const inWindow = this.recent.filter((f) => f >= t - s.interval).length;
        return inWindow > s.maxFailures ? { restart: false } : { restart: true, min: s.delay, max: s.delay };
      }
      // The backoff starts at `initial`, grows by the multiplier at each failure up to `max`, and
      // starts again after `resetThreshold` ms without a failure; jitter spreads it by ± its share.
      case "exponential-delay": {
        this.backoff = t - this.last > s.resetThreshold ? s.initial : Math.min(this.backoff * s.multiplier, s.max);
        this.last = t;
        const j = s.jitter * this.backoff;
        return { restart: true, min: Math.max(0, Math.floor(this.backoff - j)), max: Math.ceil(this.backoff + j) };
      }
    }
  }
}

/**
 * The job restarts as its restart strategy says: after each failure it restarts exactly the
 * strategy's backoff later (the restore, or a failure of the restart itself, comes then, and no
 * failure before it), or it gives up and ends FAILED, and only then. Checked per process from the
 * job's own record of failures and restores (a new process starts its strategy afresh, as a new
 * JobMaster does). Output checks cannot see a wrong backoff: a job that restarts too soon or too
 * late still commits the right windows.
 */
export class RestartPolicyCheck extends PropertyCheck {
  protected readonly property = PROPERTIES.restartPolicy;
  private failures = 0;
  private restarts = 0;

  constructor(private readonly strategy: RestartStrategy) {
    super();
  }

  /** One process's record: a finished one owes every restart due, a stopped one nothing after its last event. */
  endProcess({ failures, restores, end }: ProcessRecord): void {
    const model = new StrategyModel(this.strategy);
    // Restores by the attempt they deploy: the restart after a failure in attempt `a` deploys
    // attempt a + 1, or fails before it deploys (reading its restore point), in attempt a again.
    const byAttempt = new Map(restores.map((r) => [r.attempt, r]));
    for (let i = 0; i < failures.length; i++) {
      const f = failures[i];
      this.failures++;
      const d = model.onFailure(f.time);
      const next = failures[i + 1];
      if (!d.restart) {
        if (next !== undefined || end !== "failed") return this.problem(`failure ${i + 1} (at ${f.time}, in ${f.task}) exhausted the restart strategy, but the job ${next !== undefined ? `restarted and failed again at ${next.time}` : "did not end FAILED"}`);
        return;
      }
      const at = next?.attempt === f.attempt ? next.time : byAttempt.get(f.attempt + 1)?.time;
      if (at === undefined) {
        if (next !== undefined) return this.problem(`failure ${i + 2} came at ${next.time}, ${next.time - f.time} ms after failure ${i + 1}, with no restart between them (due ${this.due(d)} after it)`);
        if (end === "failed") return this.problem(`the job ended FAILED after failure ${i + 1} (at ${f.time}), which the restart strategy (${describe(this.strategy)}) allows to restart`);
        if (end === "finished") return this.problem(`failure ${i + 1} (at ${f.time}) was never followed by a restart`);
        return;
      }
      this.restarts++;
      if (at - f.time < d.min || at - f.time > d.max) return this.problem(`the job restarted ${at - f.time} ms after failure ${i + 1} (at ${f.time}, in ${f.task}); the restart strategy (${describe(this.strategy)}) says ${this.due(d)}`);
    }
    if (end === "failed" && failures.length === 0) this.problem("the job ended FAILED without a failure on record");
  }

  private due(d: { min: number; max: number }): string {
    return d.min === d.max ? `${d.min} ms` : `${d.min}–${d.max} ms`;
  }

  protected passed(): string {
    return `${count(this.failures, "failure")}, ${count(this.restarts, "restart")}, as ${describe(this.strategy)} says`;
  }
}
