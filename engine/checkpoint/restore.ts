import type { Logger } from "../api/logger.ts";
import { CheckpointReadError, FileSystemCheckpointStorage, type CheckpointStorage, type StateHandle } from "../state/checkpoint-storage.ts";
import type { Fs } from "../state/fs.ts";
import { applyDeltas } from "./incremental.ts";
import type { KeyGroupState } from "../state/keyed-state.ts";
import { decodeTaskSnapshot } from "./snapshot-codec.ts";
import type { OperatorSnapshot, RestoredState } from "../runtime/operator.ts";
import type { TimerSnapshot } from "../state/timers.ts";
import type { InFlightBatch } from "./checkpointed-input.ts";
import { IN_FLIGHT_KEY } from "./subtask-checkpointer.ts";

/**
 * Restore, in one place: which checkpoint (the newest whose metadata and every state file read
 * back whole), resume (the job's own storage), start from a savepoint (one given directory),
 * incremental replay (walking parents back to a full snapshot), and the in-flight records of an
 * unaligned checkpoint (handed back to the same subtask, replayed before new input).
 */
export interface RestorePoint {
  readonly checkpointId: number;
  /** State of every operator uid, gathered over all subtasks of the checkpoint restored from. */
  readonly byUid: ReadonlyMap<string, RestoredState>;
  /** Unaligned checkpoints: in-flight records per task name ("Window(sum)#1"). */
  readonly inFlight: ReadonlyMap<string, InFlightBatch[]>;
  /** Subtasks per vertex when the checkpoint was taken (in-flight records cannot be rescaled). */
  readonly parallelism: ReadonlyMap<string, number>;
  /** Newer checkpoints passed over, each for detected corruption (never for a transient failure). */
  readonly skipped: { checkpointId: number; reason: string }[];
}

/**
 * Why a checkpoint could not be read back, and what restore does about it (Flink's distinction
 * between a checkpoint that is gone and a restore attempt that failed):
 * - `corrupt`: detected damage (CRC mismatch, truncation, a missing file, state that does not
 *   fit together). It will not heal, so restore skips it and tries the next older checkpoint.
 * - `transient`: the read itself failed (EIO). The checkpoint may be whole; falling back to an
 *   older one would re-commit output the newer one had committed. The attempt fails instead,
 *   and the restart strategy retries it.
 */
export type ReadFailure =
  | { readonly kind: "corrupt"; readonly checkpointId: number; readonly reason: string }
  | { readonly kind: "transient"; readonly checkpointId: number; readonly reason: string };

export function classifyReadFailure(checkpointId: number, e: unknown): ReadFailure {
  const reason = e instanceof Error ? e.message : String(e);
  if (e instanceof CheckpointReadError) return { kind: e.kind === "io" ? "transient" : "corrupt", checkpointId, reason };
  // Anything else thrown while reading is a check of ours (max parallelism, incremental chain) or a
  // payload that does not deserialize: properties of the files, which a retry would not change.
  return { kind: "corrupt", checkpointId, reason };
}

/** Reading a checkpoint failed transiently: this restore attempt fails (the job fails over and retries). */
export class CheckpointUnavailableError extends Error {
  override readonly name = "CheckpointUnavailableError";
  constructor(readonly failure: ReadFailure & { kind: "transient" }) {
    super(`checkpoint chk-${failure.checkpointId} could not be read (${failure.reason}); restore fails rather than fall back to an older checkpoint`);
  }
}

/** Full keyed state of one operator: its own, or its parent chain's with the deltas applied. */
function resolveKeyed(storage: CheckpointStorage, h: StateHandle, uid: string, op: OperatorSnapshot, depth: number): KeyGroupState[] {
  if (!op.delta) return op.keyed;
  if (depth > 64) throw new Error(`${h.task}: incremental chain longer than 64 checkpoints`);
  const parentId = op.delta.parent;
  const ph = storage.readMetadata(parentId).handles.find((x) => x.task === h.task);
  if (!ph) throw new Error(`${h.task}: parent checkpoint ${parentId} of an incremental snapshot has no state for this task`);
  const parentOp = decodeTaskSnapshot(storage.readState(parentId, ph))[uid];
  if (!parentOp) throw new Error(`${h.task}: parent checkpoint ${parentId} has no state for operator ${uid}`);
  return applyDeltas(resolveKeyed(storage, ph, uid, parentOp, depth + 1), [op.delta]);
}

export class NoValidCheckpointError extends Error {
  override readonly name = "NoValidCheckpointError";
}

/**
 * Picks the newest checkpoint whose metadata and every state file read back whole, and
 * records why each newer one was skipped as corrupt; a transient read failure throws
 * CheckpointUnavailableError instead of skipping. With checkpoints present but none whole, restoring
 * empty would silently lose state, so it refuses.
 */
export function loadLatestValid(storage: CheckpointStorage, maxParallelism: number, onlyId?: number, log?: Pick<Logger, "warn">): RestorePoint | undefined {
  const skipped: { checkpointId: number; reason: string }[] = [];
  const ids = onlyId === undefined ? storage.completedIds() : [onlyId];
  for (const id of ids) {
    try {
      const meta = storage.readMetadata(id);
      if (meta.maxParallelism !== maxParallelism) {
        throw new Error(`max parallelism changed from ${meta.maxParallelism} to ${maxParallelism}; key groups cannot be mapped`);
      }
      const byUid = new Map<string, { keyed: KeyGroupState[]; timers: TimerSnapshot[]; listUnion: unknown[] }>();
      const inFlight = new Map<string, InFlightBatch[]>();
      const parallelism = new Map<string, number>();
      for (const h of meta.handles) {
        parallelism.set(h.vertex, Math.max(parallelism.get(h.vertex) ?? 0, h.subtask + 1));
        const snap = decodeTaskSnapshot(storage.readState(id, h));
        for (const [uid, op] of Object.entries(snap)) {
          if (uid === IN_FLIGHT_KEY) {
            inFlight.set(h.task, op.list as InFlightBatch[]);
            continue;
          }
          let r = byUid.get(uid);
          if (!r) byUid.set(uid, (r = { keyed: [], timers: [], listUnion: [] }));
          r.keyed.push(...resolveKeyed(storage, h, uid, op, 0));
          r.timers.push(...op.timers);
          r.listUnion.push(...op.list);
        }
      }
      const restored = new Map<string, RestoredState>();
      for (const [uid, r] of byUid) restored.set(uid, { checkpointId: id, ...r });
      return { checkpointId: id, byUid: restored, inFlight, parallelism, skipped };
    } catch (e) {
      const f = classifyReadFailure(id, e);
      if (f.kind === "transient") throw new CheckpointUnavailableError(f);
      skipped.push({ checkpointId: id, reason: f.reason });
      // A corrupt checkpoint (CRC mismatch, truncated _metadata) is skipped, never silently.
      log?.warn(`checkpoint chk-${id} skipped: ${f.reason}`);
    }
  }
  if (skipped.length > 0) {
    throw new NoValidCheckpointError(`no valid checkpoint to restore from: ${skipped.map((s) => `chk-${s.checkpointId}: ${s.reason}`).join("; ")}`);
  }
  return undefined;
}

/**
 * Where a failover restarts: the newest valid checkpoint of the job's own storage or, before
 * one has completed, the job's initial restore point again (a savepoint stays the job's restore
 * point until a newer checkpoint completes, as Flink keeps it in the CompletedCheckpointStore).
 * `initial` re-reads that point rather than reusing the objects the last attempt restored into.
 */
export function failoverPoint(storage: CheckpointStorage | undefined, maxParallelism: number, initial: (() => RestorePoint | undefined) | undefined, log?: Pick<Logger, "warn">, savepoint?: { readonly id: number; readonly storage: CheckpointStorage }): RestorePoint | undefined {
  const own = storage ? loadLatestValid(storage, maxParallelism, undefined, log) : undefined;
  // A stop's savepoint this job completed after its newest checkpoint: its completion committed
  // the sinks' transactions, so restoring anything older would commit that output a second time.
  if (savepoint && (own === undefined || savepoint.id > own.checkpointId)) return loadLatestValid(savepoint.storage, maxParallelism, savepoint.id, log);
  return own ?? initial?.();
}

/** A savepoint path that is not `.../chk-<n>`: the user's mistake (exit 2). */
export class SavepointPathError extends Error {
  override readonly name = "SavepointPathError";
  readonly exitCode = 2;
}

/**
 * Where a new job starts: from a savepoint (or retained checkpoint) directory `.../chk-<n>`, from
 * the newest valid checkpoint of its own storage when resuming, or from scratch.
 */
export function startingPoint(o: { fromSavepoint?: string; resume?: boolean; storage?: CheckpointStorage; fs: Fs; maxParallelism: number; log?: Pick<Logger, "warn"> }): RestorePoint | undefined {
  if (o.fromSavepoint) {
    const m = /^(.*)[/\\]chk-(\d+)[/\\]?$/.exec(o.fromSavepoint);
    if (!m) throw new SavepointPathError(`fromSavepoint: ${JSON.stringify(o.fromSavepoint)} is not a .../chk-<n> directory`);
    return loadLatestValid(new FileSystemCheckpointStorage(m[1], o.fs), o.maxParallelism, Number(m[2]), o.log);
  }
  return o.resume && o.storage ? loadLatestValid(o.storage, o.maxParallelism, undefined, o.log) : undefined;
}
