import type { CheckpointStorage } from "../state/checkpoint-storage.ts";

/**
 * Checkpoint ids: increasing across failovers and processes. As in Flink, the counter continues
 * after the checkpoint or savepoint restored from, and after anything already in storage (a
 * resumed job must not write chk-<n> over a checkpoint it may still restore from).
 */
export class CheckpointIdCounter {
  private next: number;

  constructor(firstId: number, storage?: CheckpointStorage) {
    this.next = firstId;
    for (const id of storage?.completedIds() ?? []) if (id >= this.next) this.next = id + 1;
  }

  advancePast(id: number): void {
    if (id >= this.next) this.next = id + 1;
  }

  peek(): number {
    return this.next;
  }

  getAndIncrement(): number {
    return this.next++;
  }
}
