import type { CheckpointFailureReasonKey } from "../engine/checkpoint/failure-reason.ts";
import type { CheckpointObserver } from "../engine/runtime/job-spec.ts";
import { count } from "../reports/messages.ts";
import { PROPERTIES } from "./checkers.ts";
import type { ProcessRecord } from "./process-checks.ts";
import { PropertyCheck } from "./property-check.ts";

/**
 * A checkpoint that fails leaves nothing in storage: the coordinator discards what its tasks
 * wrote (Flink's PendingCheckpoint.abort discards its state), whether it was aborted (declined,
 * expired, subsumed, its metadata write failed), cancelled by a task's failure, or cancelled by a
 * failover; and no task writes into it after that. Judged when a process ends cleanly (finished,
 * or given up), from the storage itself: on disk its directory is read directly, not through the
 * engine's own routing. A killed process is not judged, since a kill may fall inside a discard.
 * Leftover files never change the output: only the disk (or the JobManager's memory) fills.
 */
export class DiscardCheck extends PropertyCheck {
  protected readonly property = PROPERTIES.discard;
  private judged = 0;
  /** This process's failed checkpoints (savepoints live in their own storage). */
  private failed: { readonly id: number; readonly reason: CheckpointFailureReasonKey; readonly time: number }[] = [];

  startProcess(): CheckpointObserver {
    this.failed = [];
    return {
      failed: (id, reason, savepoint, time) => {
        if (!savepoint) this.failed.push({ id, reason, time });
      },
    };
  }

  endProcess({ end, holds }: ProcessRecord): void {
    if (end === "stopped" || holds === undefined) return;
    for (const f of this.failed) {
      this.judged++;
      if (holds(f.id)) this.problem(`checkpoint ${f.id} failed at ${f.time} (${f.reason}), but its files were still in storage when the job ${end === "finished" ? "finished" : "gave up"}`);
    }
  }

  protected passed(): string {
    return `${count(this.judged, "failed checkpoint")}: nothing of any left in storage`;
  }
}
