import type { Sink, SinkWriter } from "../api/sink.ts";
import { AbstractStreamOperator, listSnapshot, type OperatorSnapshot, type RestoredState } from "./operator.ts";
import { ListStateDescriptor } from "../api/functions.ts";
import { FunctionOperatorState } from "./function-context.ts";
import { removeAt } from "../kernel/remove-at.ts";

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
   * Handles pre-committed per checkpoint, not yet committed, oldest first, as the list-state
   * entries every snapshot holds while they are pending (never changed: built once, not per
   * snapshot). An array: one entry comes and goes per checkpoint, and a Map keyed by ids that only
   * grow rehashed every other checkpoint (issue 11).
   */
  private readonly pending: PendingEntry[] = [];
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
    const entry: PendingEntry = { cp: checkpointId, handles: this.writer.prepareCommit(checkpointId) };
    const pending = this.pending;
    let at = 0;
    while (at < pending.length && pending[at].cp !== checkpointId) at++;
    pending[at] = entry; // a snapshot taken again replaces its entry, in place
    const list: unknown[] = pending.slice();
    if (this.writer.snapshotState) {
      this.writerState.getListState(WRITER_STATE).update(this.writer.snapshotState(checkpointId));
      for (const s of this.writerState.snapshot()) list.push(s);
    }
    return listSnapshot(list);
  }

  override notifyCheckpointComplete(checkpointId: number): void {
    // In insertion order, as before; an entry leaves once committed, so a crash part-way keeps the rest.
    const pending = this.pending;
    for (let i = 0; i < pending.length; ) {
      const e = pending[i];
      if (e.cp > checkpointId) {
        i++;
        continue;
      }
      this.ctx.fault("sink.commit", checkpointId);
      this.writer.commit(e.handles);
      removeAt(pending, i);
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
