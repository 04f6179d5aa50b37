import type { SourceReader } from "../api/source.ts";
import { AbstractStreamOperator, listSnapshot, type OperatorSnapshot, type RestoredState } from "./operator.ts";

/** Head of a source task's chain: forwards records and keeps the reader's offsets in list state. */
export class SourceOperator<T> extends AbstractStreamOperator<T, T> {
  constructor(readonly reader: SourceReader<T>) {
    super();
  }
  override initializeState(restored: RestoredState | undefined): void {
    if (restored) this.reader.restoreState(restored.listUnion);
  }
  processElement(value: T, ts: number): void {
    this.output.collect(value, ts);
  }
  override snapshotState(checkpointId: number): OperatorSnapshot {
    return listSnapshot(this.reader.snapshotState(checkpointId));
  }
  override notifyCheckpointComplete(checkpointId: number): void {
    this.reader.notifyCheckpointComplete?.(checkpointId);
  }
  override close(): void {
    this.reader.close();
  }
}
