import type { CheckpointStorage } from "../state/checkpoint-storage.ts";
import { parentsOf, type CompletedCheckpoint } from "./checkpoint.ts";

/**
 * Completed checkpoints and savepoints (Flink's CompletedCheckpointStore plus the shared-state
 * registry's one job here): keeps `numRetained` checkpoints, and never deletes one that an
 * incremental chain still reads, whether from a retained checkpoint or from a pending one (whose
 * tasks were told at trigger time which checkpoint to write deltas against). Savepoints live in
 * their own storage and are never retired.
 */
export class CompletedCheckpointStore {
  /** Retained completed checkpoint ids, oldest first. */
  private readonly retained: number[] = [];
  /**
   * The parents of each retained checkpoint, as recorded at completion (beside `retained`): a
   * whole checkpoint's are empty. Kept beside the ids rather than in `parents`, a map that gained
   * and lost an entry at every completion (issue 11).
   */
  private readonly retainedParents: (readonly number[])[] = [];
  /** How many retained checkpoints are deltas (have parents): while none is, retention follows no chain. */
  private retainedDeltas = 0;
  /** Retired, but still the parent of a retained or pending chain. */
  private readonly kept = new Set<number>();
  /** Parents of retired checkpoints kept for a chain, and of older ones read back from metadata. */
  private readonly parents = new Map<number, readonly number[]>();
  private readonly savepoints = new Map<number, CheckpointStorage>();

  constructor(private readonly storage: CheckpointStorage, private readonly numRetained: number, private readonly trace: (line: string) => void = () => {}, private readonly discarded?: (checkpointId: number) => void) {}

  /** Completed checkpoint ids (not savepoints) still retained, oldest first. */
  get completed(): readonly number[] {
    return this.retained;
  }

  latest(): number | undefined {
    return this.retained.length ? this.retained[this.retained.length - 1] : undefined;
  }

  /** Checkpoint `id` is a savepoint that goes to `target`. */
  registerSavepoint(id: number, target: CheckpointStorage): void {
    this.savepoints.set(id, target);
  }

  /** Where checkpoint `id`'s state goes: the savepoint's own storage, or checkpoint storage. */
  storageFor(id: number): CheckpointStorage {
    return this.savepoints.get(id) ?? this.storage;
  }

  private lastSavepoint?: number;
  private lastStop?: number;

  /** The newest savepoint completed (its metadata written), a stop's or not. */
  latestSavepoint(): { id: number; storage: CheckpointStorage } | undefined {
    return this.lastSavepoint === undefined ? undefined : { id: this.lastSavepoint, storage: this.storageFor(this.lastSavepoint) };
  }

  /**
   * The newest stop's savepoint completed: a failover restores from it while it is newer than
   * every checkpoint, since its completion committed the sinks' transactions. A savepoint that does
   * not stop the job commits nothing and is no restore point for a failover (as in Flink 1.15 on):
   * restoring from it would commit its transactions, and a process that dies after that resumes
   * from the checkpoint storage, where it is not, and commits them again.
   */
  restorableSavepoint(): { id: number; storage: CheckpointStorage } | undefined {
    return this.lastStop === undefined ? undefined : { id: this.lastStop, storage: this.storageFor(this.lastStop) };
  }

  /** Ids of the checkpoints currently on storage because of this store (retained and kept). */
  live(): number[] {
    return [...this.kept, ...this.retained].sort((a, b) => a - b);
  }

  /**
   * Records a completed checkpoint and applies retention. `pendingBases` maps each pending
   * incremental checkpoint to the checkpoint it writes deltas against: those chains stay.
   */
  add(c: CompletedCheckpoint, pendingBases: ReadonlyMap<number, number>, stop = false): void {
    if (c.savepoint) {
      this.lastSavepoint = c.id;
      if (stop) this.lastStop = c.id;
      return;
    }
    this.retained.push(c.id);
    this.retainedParents.push(c.parents);
    if (c.parents.length > 0) this.retainedDeltas++;
    this.retain(pendingBases);
  }

  /** A pending checkpoint ended: a parent only it still needed may go now. */
  release(pendingBases: ReadonlyMap<number, number>): void {
    if (this.kept.size) this.retain(pendingBases);
  }

  private retain(pendingBases: ReadonlyMap<number, number>): void {
    const keep = Math.max(1, this.numRetained);
    if (pendingBases.size === 0 && this.noChains()) {
      // Nothing retained or pending reads another checkpoint: every retired one goes, oldest first
      // (those kept for a chain before the retiring ones), without a detour through `kept`, a set
      // that would fill and empty at every completion.
      for (const old of this.kept) this.dropKept(old);
      while (this.retained.length > keep) {
        this.retainedParents.shift();
        this.drop(this.retained.shift()!);
      }
      return;
    }
    while (this.retained.length > keep) {
      const id = this.retained.shift()!, p = this.retainedParents.shift()!;
      if (p.length > 0) this.retainedDeltas--;
      this.parents.set(id, p);
      this.kept.add(id);
    }
    if (this.kept.size === 0) return;
    const needed = new Set<number>();
    const walk = (id: number) => {
      if (needed.has(id)) return;
      needed.add(id);
      for (const p of this.parentsOf(id)) walk(p);
    };
    for (const id of this.retained) walk(id);
    for (const id of pendingBases.values()) walk(id);
    for (const old of [...this.kept]) {
      if (needed.has(old)) continue;
      this.dropKept(old);
    }
  }

  private dropKept(old: number): void {
    this.kept.delete(old);
    this.drop(old);
  }

  private drop(old: number): void {
    if (this.parents.size > 0) this.parents.delete(old);
    // What is left on disk after a failed discard is older than a retained checkpoint, so restore never prefers it.
    if (!discardQuietly(this.storage, old, this.trace)) return;
    if (this.discarded) this.discarded(old);
    else this.trace(`coordinator discard cp=${old}`);
  }

  /** Every retained checkpoint is known to be whole (no parents): with no pending base, the common, non-incremental case. */
  private noChains(): boolean {
    return this.retainedDeltas === 0;
  }

  /** Parents as recorded at completion, or read back from metadata (a checkpoint of an earlier process). */
  private parentsOf(id: number): readonly number[] {
    let p = this.parents.get(id);
    if (p === undefined) {
      const k = this.retained.indexOf(id);
      if (k >= 0) return this.retainedParents[k];
      try {
        p = parentsOf(this.storage.readMetadata(id).handles);
      } catch {
        p = []; // unreadable metadata: nothing to follow; restore skips such a checkpoint anyway
      }
      this.parents.set(id, p);
    }
    return p;
  }
}

/**
 * Deletes checkpoint `id` from `storage` as housekeeping, as Flink discards retired and aborted
 * checkpoints (asynchronously, logging a failure): an I/O error is traced and the run goes on.
 * Failing the job instead would, after a completion, restore as if the newer checkpoint had never
 * completed, and after a task failure or an abort, turn a failing disk's fsync into a crash of the
 * run. What a failed discard leaves is never restored from: a retired checkpoint is older than a
 * retained one, and an aborted one has no metadata. Returns whether the discard succeeded.
 */
export function discardQuietly(storage: CheckpointStorage, id: number, trace: (line: string) => void): boolean {
  try {
    storage.discard(id);
    return true;
  } catch (e) {
    // Only what the file system refused (an errno code): anything else is a bug, and surfaces.
    if (typeof (e as { code?: unknown } | null)?.code !== "string") throw e;
    trace(`coordinator discard cp=${id} failed: ${(e as Error).message}`);
    return false;
  }
}
