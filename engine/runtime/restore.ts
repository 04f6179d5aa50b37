import type { CheckpointStorage, StateHandle } from "../state/checkpoint-storage.ts";
import { applyDeltas } from "../checkpoint/incremental.ts";
import type { KeyGroupState } from "../state/keyed-state.ts";
import { deserialize } from "../state/serde.ts";
import type { OperatorSnapshot, RestoredState } from "./operator.ts";
import type { TaskSnapshot } from "./task.ts";
import type { TimerSnapshot } from "./timers.ts";

/** State of every operator uid, gathered over all subtasks of the checkpoint restored from. */
export interface RestorePoint {
  readonly checkpointId: number;
  readonly byUid: ReadonlyMap<string, RestoredState>;
  readonly skipped: { checkpointId: number; reason: string }[];
}

/** Full keyed state of one operator: its own, or its parent chain's with the deltas applied. */
function resolveKeyed(storage: CheckpointStorage, h: StateHandle, uid: string, op: OperatorSnapshot, depth: number): KeyGroupState[] {
  if (!op.delta) return op.keyed;
  if (depth > 64) throw new Error(`${h.task}: incremental chain longer than 64 checkpoints`);
  const parentId = op.delta.parent;
  const ph = storage.readMetadata(parentId).handles.find((x) => x.task === h.task);
  if (!ph) throw new Error(`${h.task}: parent checkpoint ${parentId} of an incremental snapshot has no state for this task`);
  const parentOp = deserialize<TaskSnapshot>(storage.readState(parentId, ph))[uid];
  if (!parentOp) throw new Error(`${h.task}: parent checkpoint ${parentId} has no state for operator ${uid}`);
  return applyDeltas(resolveKeyed(storage, ph, uid, parentOp, depth + 1), [op.delta]);
}

export class NoValidCheckpointError extends Error {
  override readonly name = "NoValidCheckpointError";
}

/**
 * Picks the newest checkpoint whose metadata and every state file read back whole, and
 * records why each newer one was skipped. With checkpoints present but none whole, restoring
 * empty would silently lose state, so it refuses.
 */
export function loadLatestValid(storage: CheckpointStorage, maxParallelism: number, onlyId?: number): RestorePoint | undefined {
  const skipped: { checkpointId: number; reason: string }[] = [];
  const ids = onlyId === undefined ? storage.completedIds() : [onlyId];
  for (const id of ids) {
    try {
      const meta = storage.readMetadata(id);
      if (meta.maxParallelism !== maxParallelism) {
        throw new Error(`max parallelism changed from ${meta.maxParallelism} to ${maxParallelism}; key groups cannot be mapped`);
      }
      const byUid = new Map<string, { keyed: KeyGroupState[]; timers: TimerSnapshot[]; listUnion: unknown[] }>();
      for (const h of meta.handles) {
        const snap = deserialize<TaskSnapshot>(storage.readState(id, h));
        for (const [uid, op] of Object.entries(snap)) {
          let r = byUid.get(uid);
          if (!r) byUid.set(uid, (r = { keyed: [], timers: [], listUnion: [] }));
          r.keyed.push(...resolveKeyed(storage, h, uid, op, 0));
          r.timers.push(...op.timers);
          r.listUnion.push(...op.list);
        }
      }
      const restored = new Map<string, RestoredState>();
      for (const [uid, r] of byUid) restored.set(uid, { checkpointId: id, ...r });
      return { checkpointId: id, byUid: restored, skipped };
    } catch (e) {
      skipped.push({ checkpointId: id, reason: (e as Error).message });
    }
  }
  if (skipped.length > 0) {
    throw new NoValidCheckpointError(`no valid checkpoint to restore from: ${skipped.map((s) => `chk-${s.checkpointId}: ${s.reason}`).join("; ")}`);
  }
  return undefined;
}
