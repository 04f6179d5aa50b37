import type { CheckpointObserver } from "../engine/runtime/job-spec.ts";
import { count } from "../reports/messages.ts";
import { PROPERTIES } from "./checkers.ts";
import { PropertyCheck } from "./property-check.ts";

/**
 * The completed-checkpoint store keeps what `state.checkpoints.num-retained` says, as Flink's
 * DefaultCompletedCheckpointStore does: when a checkpoint completes, the newest `retained`
 * checkpoints completed in this process are all still stored; without incremental checkpoints
 * (no chain keeps an older one for its deltas), every older one is gone. Checked as each
 * checkpoint completes (the coordinator has applied retention by then), through the storage's
 * read-only view. A store that keeps one checkpoint fewer still restores from the latest, and one
 * that keeps one more only fills the disk, so the output checks see neither.
 */
export class RetentionCheck extends PropertyCheck {
  protected readonly property = PROPERTIES.retention;
  private completions = 0;
  /** This process's completed checkpoints, oldest first (a new process's store starts afresh). */
  private completed: number[] = [];

  constructor(private readonly retained: number, private readonly incremental: boolean) {
    super();
  }

  startProcess(): CheckpointObserver {
    this.completed = [];
    return {
      completed: (c) => {
        if (c.savepoint) return;
        this.completions++;
        this.completed.push(c.checkpointId);
        const keep = Math.max(1, this.retained);
        const newest = this.completed.slice(-keep);
        const lost = newest.filter((id) => !c.storage.isCompleted(id));
        if (lost.length) this.problem(`when checkpoint ${c.checkpointId} completed, ${lost.length === 1 ? "checkpoint" : "checkpoints"} ${lost.join(", ")} of the newest ${keep} retained ${lost.length === 1 ? "was" : "were"} no longer stored`);
        // Without chains, the one that fell out of the window must be gone (a discard that fails
        // leaves it only when the file system refuses the delete, which the simulated disk never does).
        const out = this.completed[this.completed.length - keep - 1];
        if (!this.incremental && out !== undefined && c.storage.isCompleted(out)) this.problem(`when checkpoint ${c.checkpointId} completed, checkpoint ${out} was still stored: only the newest ${keep} are retained`);
      },
    };
  }

  protected passed(): string {
    return `${count(this.completions, "completion")}: the newest ${Math.max(1, this.retained)} kept${this.incremental ? "" : ", older ones gone"}`;
  }
}
