import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { CheckpointConfig } from "../api/checkpoint-config.ts";
import type { CheckpointStorage, StateHandle } from "../state/checkpoint-storage.ts";
import type { FaultPoint } from "./faults.ts";
import { countsAsCheckpointFailure, type CheckpointFailureReasonKey, CheckpointFailureReason } from "./failure-reason.ts";
import { PendingCheckpoint, type AckResult, type SubtaskCheckpointStats } from "./pending-checkpoint.ts";
import type { CheckpointStatsTracker } from "./stats.ts";

/** What the coordinator asks of the job around it. */
export interface CoordinatorHost {
  readonly kernel: Kernel;
  trace(line: string): void;
  fault(point: FaultPoint, task: string, checkpointId?: number): void;
  /** Names of every task that must acknowledge. */
  taskNames(): string[];
  triggerSources(checkpointId: number, final: boolean): void;
  notifyComplete(checkpointId: number, final: boolean): void;
  notifyAborted(checkpointId: number): void;
  /** Tolerable checkpoint failures exceeded, or the coordinator itself crashed: fail over the job. */
  failJob(error: unknown): void;
  allSourcesFinishing(): boolean;
  savepointCompleted?(checkpointId: number): void;
}

/** Runs a coordinator action as a scheduler event; a throw (an injected crash) fails the job over. */
class Action implements Runnable {
  constructor(private readonly host: CoordinatorHost, private readonly fn: (now: number) => void) {}
  run(now: number): void {
    try {
      this.fn(now);
    } catch (e) {
      this.host.failJob(e);
    }
  }
}

/**
 * Flink's CheckpointCoordinator, kept small: it decides when to trigger (interval, min pause,
 * max concurrent), expires checkpoints that time out, counts failures against the tolerable
 * number, writes the metadata as the commit point, then notifies. Statistics only observe.
 */
export class CheckpointCoordinator {
  private readonly pending = new Map<number, PendingCheckpoint>();
  private nextId: number;
  private lastTriggerTime = -Infinity;
  private lastCompletionTime = -Infinity;
  private consecutiveFailures = 0;
  private timerAt = Infinity;
  private finalRequested = false;
  private running = false;
  readonly completed: number[] = [];
  /** Savepoints taken, with where they went; they are never subsumed or discarded by retention. */
  readonly savepoints = new Map<number, CheckpointStorage>();

  constructor(
    private readonly config: CheckpointConfig,
    private readonly storage: CheckpointStorage,
    private readonly host: CoordinatorHost,
    private readonly stats: CheckpointStatsTracker,
    private readonly maxParallelism: number,
    firstId = 1,
  ) {
    this.nextId = firstId;
    for (const id of storage.completedIds().reverse()) if (id >= this.nextId) this.nextId = id + 1;
  }

  /** (Re)starts periodic triggering after deploy; pending state from before a failover is gone. */
  start(now: number): void {
    this.running = true;
    this.timerAt = Infinity;
    this.finalRequested = false;
    this.lastTriggerTime = now;
    this.scheduleNext(now);
  }

  stop(): void {
    this.running = false;
  }

  latestCompleted(): number | undefined {
    return this.completed.length ? this.completed[this.completed.length - 1] : undefined;
  }

  private scheduleNext(now: number): void {
    if (!this.running) return;
    if (this.pending.size >= this.config.maxConcurrentCheckpoints) return; // resumes when one ends
    let at = this.finalRequested ? now : Math.max(this.lastTriggerTime + this.config.interval, this.lastCompletionTime + this.config.minPauseBetweenCheckpoints);
    if (at < now) at = now;
    if (at >= this.timerAt) return;
    this.timerAt = at;
    this.host.kernel.at(at, new Action(this.host, (t) => this.onTimer(t, at)));
  }

  private onTimer(now: number, at: number): void {
    if (!this.running || at !== this.timerAt) return;
    this.timerAt = Infinity;
    if (this.pending.size >= this.config.maxConcurrentCheckpoints) return;
    if (!this.finalRequested && now < this.lastCompletionTime + this.config.minPauseBetweenCheckpoints) {
      this.scheduleNext(now);
      return;
    }
    this.trigger(now, this.host.allSourcesFinishing(), false);
    this.scheduleNext(now);
  }

  /** Every source has reached the end of its input: take the final checkpoint now. */
  requestFinal(now: number): void {
    this.finalRequested = true;
    this.timerAt = Infinity;
    this.scheduleNext(now);
  }

  /** Where checkpoint `id`'s state goes: the savepoint's own storage, or checkpoint storage. */
  storageFor(id: number): CheckpointStorage {
    return this.savepoints.get(id) ?? this.storage;
  }

  isPending(id: number): boolean {
    return this.pending.has(id);
  }

  /** A savepoint: a checkpoint written to its own durable storage, ignoring max-concurrent (as in Flink). */
  triggerSavepoint(now: number, target: CheckpointStorage): number {
    this.savepoints.set(this.nextId, target);
    return this.trigger(now, false, true);
  }

  trigger(now: number, final: boolean, savepoint: boolean): number {
    const id = this.nextId++;
    this.host.fault("checkpoint.trigger", "coordinator", id);
    const p = new PendingCheckpoint(id, now, final, savepoint, this.host.taskNames());
    this.pending.set(id, p);
    this.lastTriggerTime = now;
    if (final) this.finalRequested = false;
    this.stats.triggered(p);
    this.host.trace(`coordinator trigger cp=${id}${final ? " final" : ""}${savepoint ? " savepoint" : ""}`);
    this.armExpiry();
    this.host.triggerSources(id, final);
    return id;
  }

  /**
   * One expiry timer for the oldest pending checkpoint, rather than one per checkpoint: a
   * 10-minute timeout at a 1 s interval would otherwise keep ~600 idle events in the
   * scheduler's heap and slow every other event.
   */
  private expiryAt = Infinity;
  private armExpiry(): void {
    let first = Infinity;
    for (const p of this.pending.values()) first = Math.min(first, p.triggerTime + this.config.checkpointTimeout);
    if (first === Infinity || first >= this.expiryAt) return;
    this.expiryAt = first;
    this.host.kernel.at(first, new Action(this.host, (t) => {
      if (t !== this.expiryAt) return;
      this.expiryAt = Infinity;
      for (const p of [...this.pending.values()]) if (p.triggerTime + this.config.checkpointTimeout <= t) this.abort(p, t, "CHECKPOINT_EXPIRED");
      this.armExpiry();
    }));
  }

  acknowledge(task: string, checkpointId: number, handle: StateHandle, s: SubtaskCheckpointStats, now: number): AckResult {
    const p = this.pending.get(checkpointId);
    if (!p) return "unknown";
    const r = p.acknowledge(task, handle, s);
    if (r !== "ok") return r;
    this.stats.acknowledged(p);
    if (p.isFullyAcknowledged()) this.complete(p, now);
    return r;
  }

  private complete(p: PendingCheckpoint, now: number): void {
    const id = p.checkpointId;
    this.host.fault("checkpoint.metadata", "coordinator", id);
    try {
      this.storageFor(id).writeMetadata({
        checkpointId: id,
        timestamp: now,
        savepoint: p.savepoint,
        maxParallelism: this.maxParallelism,
        handles: [...p.acks.values()].map((a) => a.handle).sort((a, b) => (a.task < b.task ? -1 : 1)),
      });
    } catch (e) {
      this.abort(p, now, "FINALIZE_CHECKPOINT_FAILURE", (e as Error).message);
      return;
    }
    this.parents.set(id, [...new Set([...p.acks.values()].flatMap((a) => (a.handle.parent === undefined ? [] : [a.handle.parent])))]);
    // Past the commit point: the checkpoint exists even if we crash before notifying.
    this.pending.delete(id);
    p.dispose();
    if (!p.savepoint) this.completed.push(id);
    this.lastCompletionTime = now;
    this.consecutiveFailures = 0;
    this.stats.completed(id, now);
    this.host.trace(`coordinator complete ${p.savepoint ? "savepoint" : "cp"}=${id}`);
    this.retain();
    // Older pending checkpoints are subsumed by this one.
    for (const older of [...this.pending.values()]) if (older.checkpointId < id) this.abort(older, now, "CHECKPOINT_DECLINED", `subsumed by checkpoint ${id}`);
    this.host.fault("checkpoint.complete", "coordinator", id);
    this.host.notifyComplete(id, p.final);
    if (p.savepoint) this.host.savepointCompleted?.(id);
    this.scheduleNext(now);
  }

  /** Parent checkpoints of each completed one (incremental chains), as its metadata records them. */
  private readonly parents = new Map<number, number[]>();

  private parentsOf(id: number): number[] {
    let p = this.parents.get(id);
    if (p === undefined) {
      try {
        p = [...new Set(this.storage.readMetadata(id).handles.flatMap((h) => (h.parent === undefined ? [] : [h.parent])))];
      } catch {
        p = []; // unreadable metadata: nothing to follow; restore skips such a checkpoint anyway
      }
      this.parents.set(id, p);
    }
    return p;
  }

  /** Retired checkpoints still needed as parents of an incremental chain. */
  private readonly kept = new Set<number>();

  /**
   * Keeps `numRetained` completed checkpoints and never deletes the latest, nor any checkpoint
   * an incremental chain of a retained one still reads (reference by parent id).
   */
  private retain(): void {
    const keep = Math.max(1, this.config.numRetained);
    while (this.completed.length > keep) this.kept.add(this.completed.shift()!);
    if (this.kept.size === 0) return;
    const needed = new Set<number>();
    const walk = (id: number) => {
      if (needed.has(id)) return;
      needed.add(id);
      for (const parent of this.parentsOf(id)) walk(parent);
    };
    for (const id of this.completed) walk(id);
    for (const old of [...this.kept]) {
      if (needed.has(old)) continue;
      this.kept.delete(old);
      this.parents.delete(old);
      this.storage.discard(old);
      this.host.trace(`coordinator discard cp=${old}`);
    }
  }

  abort(p: PendingCheckpoint, now: number, reason: CheckpointFailureReasonKey, detail?: string): void {
    if (p.isDisposed() && !this.pending.has(p.checkpointId)) return;
    this.pending.delete(p.checkpointId);
    p.dispose();
    this.storageFor(p.checkpointId).discard(p.checkpointId);
    this.stats.failed(p.checkpointId, now, reason, detail);
    this.host.trace(`coordinator abort cp=${p.checkpointId} ${reason}`);
    this.host.notifyAborted(p.checkpointId);
    if (p.final) this.finalRequested = true;
    if (countsAsCheckpointFailure(reason)) {
      this.consecutiveFailures++;
      if (this.consecutiveFailures > this.config.tolerableCheckpointFailureNumber) {
        this.consecutiveFailures = 0;
        this.host.failJob(new CheckpointFailureThresholdError(p.checkpointId, reason, this.config.tolerableCheckpointFailureNumber));
        return;
      }
    }
    this.scheduleNext(now);
  }

  /** A failover cancels every pending checkpoint. */
  onFailover(now: number): void {
    for (const p of [...this.pending.values()]) {
      this.pending.delete(p.checkpointId);
      p.dispose();
      this.storageFor(p.checkpointId).discard(p.checkpointId);
      this.stats.failed(p.checkpointId, now, "JOB_FAILOVER_REGION");
    }
    this.running = false;
    this.timerAt = Infinity;
    this.expiryAt = Infinity;
  }
}

export class CheckpointFailureThresholdError extends Error {
  override readonly name = "CheckpointFailureThresholdError";
  constructor(readonly checkpointId: number, readonly reason: CheckpointFailureReasonKey, tolerable: number) {
    super(`Exceeded checkpoint tolerable failure threshold (${tolerable}): checkpoint ${checkpointId} failed: ${CheckpointFailureReason[reason]}`);
  }
}
