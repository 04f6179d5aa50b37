import type { Sink, SinkWriter } from "../api/sink.ts";
import { AbstractStreamOperator, listSnapshot, type OperatorSnapshot, type RestoredState } from "./operator.ts";
import { ListStateDescriptor } from "../api/functions.ts";
import { FunctionOperatorState } from "./function-context.ts";

const WRITER_STATE = new ListStateDescriptor<unknown>("sink-writer-state");

/** One checkpoint's pre-committed handles, as the sink's list state holds them. */
interface PendingEntry {
  readonly cp: number;
  readonly handles: unknown[];
}

/**
 * Runs a sink's writer inside a task and drives its two-phase commit from checkpoints:
 * pre-commit at the snapshot (handles go into list state), commit on notify, recover on restore.
 * Without checkpointing, everything written is committed at end of input.
 */
export class SinkOperator<T> extends AbstractStreamOperator<T, never> {
  private writer!: SinkWriter<T>;
  /**
   * checkpoint id -> handles pre-committed for it, not yet committed, as the list-state entry
   * every snapshot holds while they are pending (never changed: built once, not per snapshot).
   */
  private readonly pending = new Map<number, PendingEntry>();
  private attempt = 0;
  private writerState!: FunctionOperatorState;

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
      traceEvent: (kind, a, b) => c.traceEvent(kind, a, b),
    });
    this.writerState = new FunctionOperatorState(c.subtaskIndex, c.parallelism);
    if (restored) {
      // Every subtask commits every restored handle: commit is idempotent, and after a
      // rescale no handle may be left to a subtask that no longer exists.
      const entries = restored.listUnion as ({ cp: number; handles: unknown[] } | { s: string })[];
      const handles = entries.flatMap((e) => ("handles" in e ? e.handles : []));
      this.writer.recover(handles);
      this.writerState.restore(restored.checkpointId, entries.filter((e) => "s" in e));
      this.writer.initializeState?.(this.writerState.getListState(WRITER_STATE).get());
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
    this.pending.set(checkpointId, { cp: checkpointId, handles: this.writer.prepareCommit(checkpointId) });
    const list: unknown[] = [];
    for (const e of this.pending.values()) list.push(e);
    if (this.writer.snapshotState) {
      this.writerState.getListState(WRITER_STATE).update(this.writer.snapshotState(checkpointId));
      for (const s of this.writerState.snapshot()) list.push(s);
    }
    return listSnapshot(list);
  }

  override notifyCheckpointComplete(checkpointId: number): void {
    // Deleting the entry being visited is safe in a Map's iteration; no copy of the map per notice.
    for (const [cp, e] of this.pending) {
      if (cp > checkpointId) continue;
      this.ctx.fault("sink.commit", checkpointId);
      this.writer.commit(e.handles);
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
