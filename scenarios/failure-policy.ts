import type { CheckpointObserver } from "../engine/runtime/job-spec.ts";
import type { CheckpointFailureReasonKey } from "../engine/checkpoint/failure-reason.ts";
import type { ProcessRecord } from "./process-checks.ts";
import { count } from "../reports/messages.ts";
import { PROPERTIES } from "./checkers.ts";
import { PropertyCheck } from "./property-check.ts";

/**
 * The reasons Flink's CheckpointFailureManager counts against the tolerable number, written out
 * here rather than imported: the engine's own list must not be what it is checked against. What
 * the checkpoint itself did wrong counts; what happened around it (a failover, a newer checkpoint,
 * a refused trigger, a stop) does not.
 */
const COUNTED: ReadonlySet<CheckpointFailureReasonKey> = new Set(["CHECKPOINT_EXPIRED", "CHECKPOINT_DECLINED", "IO_EXCEPTION", "FINALIZE_CHECKPOINT_FAILURE"]);

/** The message a job failure on the threshold carries (CheckpointFailureThresholdError). */
const THRESHOLD = /^Exceeded checkpoint tolerable failure threshold \((\d+)\): checkpoint (\d+) failed/;

/**
 * The job fails over exactly when its checkpoint failures exceed the tolerable number
 * (`execution.checkpointing.tolerable-failed-checkpoints`), as Flink's CheckpointFailureManager
 * decides: consecutive failures of counted reasons, each checkpoint once, only checkpoints newer
 * than the last completed one, never a savepoint; a completion, or the failure the threshold
 * causes, starts the count again. A model of that rule watches each process's checkpoints end
 * (CheckpointObserver, in the coordinator's order) and says which failures must fail the job;
 * the job's failures must be exactly those. Output checks cannot see a wrong count: a job that
 * fails over too early or too late still commits the right windows.
 */
export class FailurePolicyCheck extends PropertyCheck {
  protected readonly property = PROPERTIES.failurePolicy;
  private thresholds = 0;
  private failures = 0;
  // The model's state, per process (a new process's coordinator counts from zero).
  private consecutive = 0;
  private lastSucceeded = 0;
  private readonly counted = new Set<number>();
  private predicted: number[] = [];

  constructor(private readonly tolerable: number) {
    super();
  }

  /** A new process (or a rescale's second job) starts: its coordinator counts from zero. */
  startProcess(): CheckpointObserver {
    this.lastSucceeded = 0;
    this.restartCount();
    this.predicted = [];
    return {
      completed: (c) => {
        if (c.checkpointId <= this.lastSucceeded) return;
        this.lastSucceeded = c.checkpointId;
        this.restartCount();
      },
      failed: (id, reason, savepoint) => {
        if (savepoint || !COUNTED.has(reason) || id <= this.lastSucceeded || this.counted.has(id)) return;
        this.failures++;
        this.counted.add(id);
        if (++this.consecutive <= this.tolerable) return;
        this.predicted.push(id);
        this.restartCount();
      },
    };
  }

  /** A completion, a failover on the threshold, or a new process: the count starts again. */
  private restartCount(): void {
    this.consecutive = 0;
    this.counted.clear();
  }

  /** The process ended (finished, failed, or killed): its job failures against the model's. */
  endProcess({ failures }: ProcessRecord): void {
    const actual = failures.flatMap((f) => {
      const m = THRESHOLD.exec(f.error);
      return m ? [Number(m[2])] : [];
    });
    this.thresholds += actual.length;
    const want = this.predicted;
    for (let i = 0; i < Math.max(want.length, actual.length); i++) {
      if (want[i] === actual[i]) continue;
      this.problem(
        want[i] === undefined ? `the job failed on the checkpoint failure threshold (${this.tolerable}) at checkpoint ${actual[i]}, but no more than ${this.tolerable} consecutive counted failures had come before it`
        : actual[i] === undefined ? `checkpoint ${want[i]} was failure ${this.tolerable + 1} in a row (more than the ${this.tolerable} tolerable), but the job did not fail over`
        : `the job failed on the checkpoint failure threshold at checkpoint ${actual[i]}, but by the rule at checkpoint ${want[i]}`,
      );
      break; // the rest follows from the first difference
    }
  }

  protected passed(): string {
    return `${count(this.failures, "counted checkpoint failure")}, tolerable ${this.tolerable}: ${count(this.thresholds, "failover")} on the threshold, as the rule says`;
  }
}
