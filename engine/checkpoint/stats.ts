import type { CheckpointFailureReasonKey } from "./failure-reason.ts";
import { CheckpointFailureReason } from "./failure-reason.ts";
import { acknowledgedCount, totalTasks, type AbortedCheckpoint, type PendingCheckpoint, type SubtaskCheckpointStats } from "./checkpoint.ts";

/** One row of the checkpoint history (Flink UI's Checkpoints tab). Virtual times in ms. */
export interface CheckpointStats {
  id: number;
  status: "in_progress" | "completed" | "failed";
  final: boolean;
  savepoint: boolean;
  triggerTime: number;
  endTime?: number;
  endToEndMs?: number;
  /** Max over subtasks, virtual time. */
  alignmentMs: number;
  /** Max over subtasks, wall clock (the only figures that are not deterministic). */
  syncWallMs: number;
  asyncWallMs: number;
  acknowledged: number;
  total: number;
  /** Summed over subtasks; undefined when some subtask's state was kept unserialized (JobManager storage). */
  stateBytes: number | undefined;
  /** Prose, for people: the reason's message and the cause. */
  failureReason?: string;
  /** The reason's key (CheckpointFailureReason), for programs. */
  failureReasonKey?: CheckpointFailureReasonKey;
  /** Unaligned: in-flight records persisted as channel state, summed over subtasks. */
  channelStateRecords?: number;
  /** Some subtask took its snapshot unaligned (at once, or after the aligned-checkpoint timeout). */
  unaligned?: boolean;
}

/** A trigger the policy refused before any checkpoint id was drawn (Flink counts these too). */
export interface TriggerRefusal {
  time: number;
  reason: CheckpointFailureReasonKey;
}

export interface RestoreEvent {
  time: number;
  attempt: number;
  checkpointId: number | null;
  skipped: { checkpointId: number; reason: string }[];
}

export interface FailureEvent {
  time: number;
  attempt: number;
  task: string;
  error: string;
  injected: boolean;
}

/** Rows the columns start with (a few KB); they double when full. */
const INITIAL_ROWS = 256;

/**
 * Observes checkpoints; never decides anything. The history is kept in columns (typed arrays,
 * grown by doubling) and rows are built when someone reads it: a job checkpointing every second
 * for an hour keeps 3,600 rows, and as objects each one outlived two young-generation collections
 * and was promoted, which made a full collection part of the cost of checkpointing (issue 11).
 */
export class CheckpointStatsTracker {
  private n = 0;
  private ids = new Float64Array(INITIAL_ROWS);
  private trig = new Float64Array(INITIAL_ROWS);
  /** NaN: not ended. */
  private end = new Float64Array(INITIAL_ROWS);
  private align = new Float64Array(INITIAL_ROWS);
  private sync = new Float64Array(INITIAL_ROWS);
  private async_ = new Float64Array(INITIAL_ROWS);
  /** NaN: some subtask's state was kept unserialized (no byte count). */
  private bytes = new Float64Array(INITIAL_ROWS);
  private chan = new Float64Array(INITIAL_ROWS);
  private acked = new Int32Array(INITIAL_ROWS);
  private total = new Int32Array(INITIAL_ROWS);
  /** 0 in progress, 1 completed, 2 failed. */
  private status = new Uint8Array(INITIAL_ROWS);
  /** 1 final, 2 savepoint, 4 unaligned. */
  private flags = new Uint8Array(INITIAL_ROWS);
  /** Rare: failure text by row. */
  private readonly failures_ = new Map<number, { reason: string; key: CheckpointFailureReasonKey }>();
  /** Rows of checkpoints still in progress (the only ones acks and endings update): as small as the pending set. */
  private readonly open: number[] = [];
  private rows?: CheckpointStats[];
  readonly restores: RestoreEvent[] = [];
  readonly failures: FailureEvent[] = [];
  readonly refusals: TriggerRefusal[] = [];

  /** Every checkpoint triggered, in trigger order, as rows (built on read, kept until the next change). */
  get history(): readonly CheckpointStats[] {
    if (this.rows) return this.rows;
    const out: CheckpointStats[] = [];
    for (let i = 0; i < this.n; i++) out.push(this.row(i));
    return (this.rows = out);
  }

  private row(i: number): CheckpointStats {
    const st = this.status[i], f = this.flags[i];
    const s: CheckpointStats = {
      id: this.ids[i], status: st === 0 ? "in_progress" : st === 1 ? "completed" : "failed", final: (f & 1) !== 0, savepoint: (f & 2) !== 0, triggerTime: this.trig[i],
      alignmentMs: this.align[i], syncWallMs: this.sync[i], asyncWallMs: this.async_[i], acknowledged: this.acked[i], total: this.total[i],
      stateBytes: Number.isNaN(this.bytes[i]) ? undefined : this.bytes[i],
    };
    if (st !== 0) {
      s.endTime = this.end[i];
      s.endToEndMs = this.end[i] - this.trig[i];
    }
    const fr = this.failures_.get(i);
    if (fr) {
      s.failureReason = fr.reason;
      s.failureReasonKey = fr.key;
    }
    if (this.chan[i] > 0) s.channelStateRecords = this.chan[i];
    if (f & 4) s.unaligned = true;
    return s;
  }

  refused(time: number, reason: CheckpointFailureReasonKey): void {
    this.refusals.push({ time, reason });
  }

  triggered(p: PendingCheckpoint): void {
    if (this.n === this.ids.length) this.grow();
    const i = this.n++;
    this.ids[i] = p.id;
    this.trig[i] = p.triggerTime;
    this.end[i] = NaN;
    this.align[i] = this.sync[i] = this.async_[i] = this.bytes[i] = this.chan[i] = 0;
    this.acked[i] = 0;
    this.total[i] = totalTasks(p);
    this.status[i] = 0;
    this.flags[i] = (p.final ? 1 : 0) | (p.savepoint ? 2 : 0);
    this.open.push(i);
    this.rows = undefined;
  }

  /** The row of checkpoint `id` if it is still in progress, else -1. */
  private openRow(id: number): number {
    const o = this.open;
    for (let k = 0; k < o.length; k++) if (this.ids[o[k]] === id) return o[k];
    return -1;
  }

  /** The row ended: no longer open. */
  private close(i: number): void {
    const o = this.open;
    const k = o.indexOf(i);
    o[k] = o[o.length - 1];
    o.pop();
    this.rows = undefined;
  }

  /** One more subtask acknowledged with `a`: folded into the row (maxima and sums), not recomputed over every ack. */
  acknowledged(p: PendingCheckpoint, a: SubtaskCheckpointStats): void {
    const i = this.openRow(p.id);
    if (i < 0) return;
    this.acked[i] = acknowledgedCount(p);
    if (a.alignmentMs > this.align[i]) this.align[i] = a.alignmentMs;
    if (a.syncWallMs > this.sync[i]) this.sync[i] = a.syncWallMs;
    if (a.asyncWallMs > this.async_[i]) this.async_[i] = a.asyncWallMs;
    // NaN stays NaN: once a subtask's state has no byte count, neither has the checkpoint's.
    this.bytes[i] += a.stateBytes === undefined ? NaN : a.stateBytes;
    if (a.channelStateRecords) this.chan[i] += a.channelStateRecords;
    if (a.unaligned) this.flags[i] |= 4;
    this.rows = undefined;
  }

  completed(id: number, now: number): void {
    const i = this.openRow(id);
    if (i < 0) return;
    this.status[i] = 1;
    this.end[i] = now;
    this.close(i);
  }

  failed(a: AbortedCheckpoint): void {
    const i = this.openRow(a.id);
    if (i < 0) return;
    this.status[i] = 2;
    this.end[i] = a.endTime;
    this.failures_.set(i, { reason: `${CheckpointFailureReason[a.reason]}${a.cause ? ` (${a.cause})` : ""}`, key: a.reason });
    this.close(i);
  }

  counts(): { completed: number; failed: number; inProgress: number } {
    let completed = 0, failed = 0, inProgress = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.status[i] === 1) completed++;
      else if (this.status[i] === 2) failed++;
      else inProgress++;
    }
    return { completed, failed, inProgress };
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    this.ids = grown(this.ids, cap);
    this.trig = grown(this.trig, cap);
    this.end = grown(this.end, cap);
    this.align = grown(this.align, cap);
    this.sync = grown(this.sync, cap);
    this.async_ = grown(this.async_, cap);
    this.bytes = grown(this.bytes, cap);
    this.chan = grown(this.chan, cap);
    this.acked = grown(this.acked, cap);
    this.total = grown(this.total, cap);
    this.status = grown(this.status, cap);
    this.flags = grown(this.flags, cap);
  }
}

/** A copy of column `a` with room for `cap` rows. */
function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}
