/**
 * End of input with checkpointing (FLIP-147), in one place. A task whose input ended must not
 * finish before the final checkpoint it took part in has completed: that notification commits
 * the last epoch of its sinks, and finishing first would drop the commit.
 * - A source reaches its end first: it waits for a final checkpoint to be triggered (when every
 *   source is at its end), to snapshot it, and for it to complete.
 * - A downstream task sees end of partition after the final barrier: it waits for the completion
 *   of the final checkpoint it snapshotted.
 */
export type EndOfInputPhase = "running" | "waiting-for-final-checkpoint" | "may-finish";

export class EndOfInput {
  private finalSnapshot = 0;
  private lastCompleted = 0;
  private phase: EndOfInputPhase = "running";

  constructor(private readonly checkpointing: boolean, private readonly isSource: boolean) {}

  get current(): EndOfInputPhase {
    return this.phase;
  }

  /**
   * The first final checkpoint a task snapshots is the one it waits for (Flink's
   * finalCheckpointMinId): any completion at or after it lets the task finish. A later final
   * checkpoint, triggered while the first one's completion notice is still on its way (checkpoints
   * every 50 ms with no pause), must not move the bar: tasks that have already finished on the
   * first never acknowledge it, so the rest would wait for a checkpoint that can only expire.
   */
  snapshotTaken(checkpointId: number, final: boolean): void {
    if (final && this.finalSnapshot === 0) this.finalSnapshot = checkpointId;
  }

  /** The input ended: true when the task may finish at once. */
  inputEnded(): boolean {
    this.phase = this.done() ? "may-finish" : "waiting-for-final-checkpoint";
    return this.phase === "may-finish";
  }

  /** A checkpoint completed: true when a task waiting at its end may finish now. */
  checkpointCompleted(checkpointId: number): boolean {
    if (checkpointId > this.lastCompleted) this.lastCompleted = checkpointId;
    if (this.phase !== "waiting-for-final-checkpoint" || !this.done()) return false;
    this.phase = "may-finish";
    return true;
  }

  private done(): boolean {
    if (!this.checkpointing) return true;
    if (this.finalSnapshot === 0) return !this.isSource; // a source must take part in a final checkpoint
    return this.lastCompleted >= this.finalSnapshot;
  }
}
