import type { Sink, SinkWriter } from "../api/sink.ts";
import { AbstractStreamOperator, type OperatorSnapshot, type RestoredState } from "./operator.ts";

/**
 * Runs a sink's writer inside a task and drives its two-phase commit from checkpoints:
 * pre-commit at the snapshot (handles go into list state), commit on notify, recover on restore.
 * Without checkpointing, everything written is committed at end of input.
 */
export class SinkOperator<T> extends AbstractStreamOperator<T, never> {
  private writer!: SinkWriter<T>;
  /** checkpoint id -> handles pre-committed for it, not yet committed. */
  private readonly pending = new Map<number, unknown[]>();
  private attempt = 0;

  constructor(private readonly sink: Sink<T>, attempt: number) {
    super();
    this.attempt = attempt;
  }

  override initializeState(restored: RestoredState | undefined): void {
    const c = this.ctx;
    this.writer = this.sink.createWriter({
      subtaskIndex: c.subtaskIndex,
      parallelism: c.parallelism,
      attempt: this.attempt,
      fs: c.fs,
      log: c.log,
      checkpointingEnabled: c.checkpointingEnabled,
      trace: (w) => c.trace(w),
    });
    if (restored) {
      // Every subtask commits every restored handle: commit is idempotent, and after a
      // rescale no handle may be left to a subtask that no longer exists.
      const handles = (restored.listUnion as { cp: number; handles: unknown[] }[]).flatMap((e) => e.handles);
      this.writer.recover(handles);
    }
  }

  processElement(value: T, ts: number): void {
    this.writer.write(value, ts);
  }

  override processWatermark(_wm: number): void {}

  override endInput(): void {
    if (!this.ctx.checkpointingEnabled) this.writer.commit(this.writer.prepareCommit(0));
  }

  override snapshotState(checkpointId: number): OperatorSnapshot {
    this.ctx.fault("sink.pre-commit", checkpointId);
    this.pending.set(checkpointId, this.writer.prepareCommit(checkpointId));
    const list = [...this.pending.entries()].map(([cp, handles]) => ({ cp, handles }));
    return { keyed: [], timers: [], list };
  }

  override notifyCheckpointComplete(checkpointId: number): void {
    for (const [cp, handles] of [...this.pending.entries()]) {
      if (cp > checkpointId) continue;
      this.ctx.fault("sink.commit", checkpointId);
      this.writer.commit(handles);
      this.pending.delete(cp);
    }
  }

  override notifyCheckpointAborted(checkpointId: number): void {
    // The epoch's records stay pending and are committed with the next completed checkpoint,
    // which subsumes this one (Flink's behaviour for aborted checkpoints).
    void checkpointId;
  }

  override close(): void {
    this.writer?.close();
  }
}
