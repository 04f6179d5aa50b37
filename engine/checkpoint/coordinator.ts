import type { Kernel, Runnable } from "../kernel/kernel.ts";
import { COORDINATOR_TRACE_ID, TraceEvent, type Trace } from "../kernel/trace.ts";
import type { CheckpointConfig } from "../api/checkpoint-config.ts";
import type { CheckpointStorage, StateHandle } from "../state/checkpoint-storage.ts";
import { ProcessKilled, type FaultPoint } from "./faults.ts";
import type { CheckpointFailureReasonKey } from "./failure-reason.ts";
import { abort, acknowledge, complete, isFullyAcknowledged, isWaitingFor, pendingCheckpoint, taskIndex, type AckResult, type PendingCheckpoint, type SubtaskCheckpointStats, type TaskIndex } from "./checkpoint.ts";
import { ById } from "./by-id.ts";
import { CompletedCheckpointStore, discardQuietly } from "./completed-store.ts";
import { FailureManager } from "./failure-manager.ts";
import type { CheckpointOptions, CoordinatorGateway, TaskGateway } from "./gateway.ts";
import { CheckpointIdCounter } from "./id-counter.ts";
import type { CheckpointStatsTracker } from "./stats.ts";
import { TriggerPolicy, type TriggerKind } from "./trigger-policy.ts";

export { CheckpointFailureThresholdError } from "./failure-manager.ts";

/** What the coordinator asks of the job around it, besides the gateway to its tasks. */
export interface CoordinatorHost extends TaskGateway {
  readonly kernel: Kernel;
  trace(line: string): void;
  fault(point: FaultPoint, task: string, checkpointId?: number): void;
  /** Tolerable checkpoint failures exceeded, or the coordinator itself crashed: fail over the job. */
  failJob(error: unknown): void;
  allSourcesFinishing(): boolean;
  savepointCompleted?(checkpointId: number): void;
  /** Checkpoint `id` was triggered (for an observer; changes nothing). */
  checkpointTriggered?(checkpointId: number, kind: TriggerKind, stop: boolean): void;
  /** Periodic triggering (re)started after a deploy; a failover stopped it (for an observer). */
  checkpointingStarted?(): void;
  checkpointingStopped?(): void;
  /** Checkpoint `id` passed its commit point and is in the store (for an observer; changes nothing). */
  checkpointCompleted?(checkpointId: number, storage: CheckpointStorage, savepoint: boolean, handles: readonly StateHandle[]): void;
  /** Checkpoint `id` ended without completing, for `reason`, before the failure manager weighs it (for an observer). */
  checkpointFailed?(checkpointId: number, reason: CheckpointFailureReasonKey, savepoint: boolean): void;
}

/** The options of every periodic, non-incremental checkpoint: one object instead of one per trigger (never mutated). */
const PERIODIC: CheckpointOptions = Object.freeze({ final: false, savepoint: false });

/** A coordinator step as a scheduler event; a throw (an injected crash) fails the job over. */
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
 * Flink's CheckpointCoordinator, as wiring: the trigger policy says when, the id counter which
 * id, the gateway carries trigger and notifications, acks complete a pending checkpoint whose
 * metadata (the commit point) then goes to storage, the store retains, the failure manager says
 * whether a failure fails the job. Statistics only observe.
 */
export class CheckpointCoordinator implements CoordinatorGateway {
  private readonly pending = new ById<PendingCheckpoint>();
  /** Incremental: the checkpoint each pending one's deltas are written against. */
  private readonly bases = new Map<number, number>();
  private readonly policy: TriggerPolicy;
  private readonly failures: FailureManager;
  private readonly ids: CheckpointIdCounter;
  readonly store: CompletedCheckpointStore;
  private running = false;
  private timerAt = Infinity;
  private expiryAt = Infinity;
  /** Every source reached its end, or the final checkpoint was aborted: trigger a final one. */
  private finalWanted = false;
  /** A trigger was refused for too many pending checkpoints: retry when one ends. */
  private queued = false;
  /** Stop-with-savepoint in progress: no other checkpoint is triggered until it fails. */
  private suspended = false;
  /** The savepoint of a stop-with-savepoint in flight (Flink's synchronous savepoint), if any. */
  private stopSavepoint?: number;
  private readonly tr: Trace;

  constructor(private readonly config: CheckpointConfig, storage: CheckpointStorage, private readonly host: CoordinatorHost, private readonly stats: CheckpointStatsTracker, private readonly maxParallelism: number, firstId = 1) {
    this.ids = new CheckpointIdCounter(firstId, storage);
    this.policy = new TriggerPolicy(config);
    this.failures = new FailureManager(config.tolerableCheckpointFailureNumber);
    this.tr = host.kernel.trace;
    // Life-cycle entries are numeric trace events (kept lines read "coordinator trigger cp=7" as before).
    this.store = new CompletedCheckpointStore(storage, config.numRetained, (l) => host.trace(l), (id) => this.tr.event(host.kernel.now(), COORDINATOR_TRACE_ID, "coordinator", TraceEvent.cpDiscard, id));
    this.timer = new Action(host, (t) => {
      if (!this.running || t !== this.timerAt) return;
      this.timerAt = Infinity;
      this.onTimer(t);
    });
    this.expiry = new Action(host, (t) => {
      if (t !== this.expiryAt) return;
      this.expiryAt = Infinity;
      for (const p of [...this.pending.values()]) if (this.policy.expiresAt(p.triggerTime) <= t) this.abortPending(p, t, "CHECKPOINT_EXPIRED");
      this.armExpiry();
    });
  }

  /** Completed checkpoint ids retained, oldest first. */
  get completed(): readonly number[] {
    return this.store.completed;
  }
  latestSavepoint(): { id: number; storage: CheckpointStorage } | undefined {
    return this.store.latestSavepoint();
  }

  restorableSavepoint(): { id: number; storage: CheckpointStorage } | undefined {
    return this.store.restorableSavepoint();
  }
  latestCompleted(): number | undefined {
    return this.store.latest();
  }
  storageFor(id: number): CheckpointStorage {
    return this.store.storageFor(id);
  }
  isPending(id: number): boolean {
    return this.pending.has(id);
  }
  /** Checkpoints whose metadata write failed: aborted here, but possibly whole on disk (rare: a set, never pruned). */
  private readonly finalizeFailed = new Set<number>();
  /**
   * Whether checkpoint `id` may have reached its commit point (_metadata) on disk without this
   * coordinator counting it complete: still pending (its write may be under way), or its metadata
   * write failed part-way. For a process that dies then, the disk says whether it completed.
   */
  commitInDoubt(id: number): boolean {
    return this.pending.has(id) || this.finalizeFailed.has(id);
  }

  /** The job restored from `id`: new checkpoint ids continue after it (Flink's CheckpointIDCounter.setCount on restore). */
  restoredFrom(id: number): void {
    this.ids.advancePast(id);
  }

  /** (Re)starts periodic triggering after deploy; pending state from before a failover is gone. */
  start(now: number): void {
    Object.assign(this, { running: true, timerAt: Infinity, finalWanted: false, queued: false, suspended: false });
    this.policy.start(now);
    this.host.checkpointingStarted?.();
    this.arm(this.policy.nextPeriodic());
  }
  stop(): void {
    this.running = false;
  }

  /** Every source has reached the end of its input: take the final checkpoint now. */
  requestFinal(now: number): void {
    this.finalWanted = true;
    this.timerAt = Infinity;
    this.arm(now);
  }

  /**
   * A savepoint: a checkpoint written whole to its own storage, ignoring max-concurrent (as in Flink).
   * Stop-with-savepoint first suspends periodic checkpoints and aborts the pending ones, as Flink's
   * stopCheckpointScheduler does: a checkpoint completing after the savepoint's barrier would commit
   * output that a job started from the savepoint produces again.
   */
  triggerSavepoint(now: number, target: CheckpointStorage, stop = false): number {
    if (stop) {
      this.suspended = true;
      // The timer armed for the next periodic checkpoint goes too (Flink cancels the periodic
      // trigger): a savepoint slower than the interval let it fire, and with room for two pending
      // checkpoints its checkpoint completed after the savepoint and committed output twice.
      this.timerAt = Infinity;
      for (const p of [...this.pending.values()]) if (!p.savepoint) this.abortPending(p, now, "CHECKPOINT_COORDINATOR_SUSPEND", "stop-with-savepoint");
    }
    this.store.registerSavepoint(this.ids.peek(), target);
    const id = this.trigger(now, "savepoint", stop);
    if (stop) this.stopSavepoint = id;
    return id;
  }

  private arm(at: number): void {
    if (!this.running || this.suspended) return;
    const now = this.host.kernel.now();
    if (at < now) at = now;
    if (at >= this.timerAt) return;
    this.timerAt = at;
    this.host.kernel.at(at, this.timer);
  }

  /** One event object for every arming: a superseded event finds `timerAt` moved and does nothing. */
  private readonly timer: Action;

  private onTimer(now: number): void {
    const kind: TriggerKind = this.finalWanted || this.host.allSourcesFinishing() ? "final" : "periodic";
    const d = this.policy.decide(now, this.pending.size, kind);
    if (d.kind === "trigger") {
      this.trigger(now, kind);
      this.arm(this.policy.nextPeriodic());
      return;
    }
    this.stats.refused(now, d.reason);
    this.host.trace(`coordinator trigger refused ${d.reason}`);
    if (d.reason === "TOO_MANY_CONCURRENT_CHECKPOINTS") this.queued = true;
    else this.arm(d.retryAt);
  }

  trigger(now: number, kind: TriggerKind, stop = false): number {
    const id = this.ids.getAndIncrement();
    this.host.fault("checkpoint.trigger", "coordinator", id);
    const final = kind === "final", savepoint = kind === "savepoint";
    const p = pendingCheckpoint({ id, triggerTime: now, final, savepoint }, this.tasksOf(this.host.taskNames()));
    const base = this.config.incremental && !savepoint ? this.store.latest() : undefined;
    this.pending.set(p);
    if (base !== undefined) this.bases.set(id, base);
    this.policy.triggered(now);
    if (final) this.finalWanted = false;
    this.stats.triggered(p);
    this.host.checkpointTriggered?.(id, kind, stop);
    this.tr.event(this.host.kernel.now(), COORDINATOR_TRACE_ID, "coordinator", TraceEvent.cpTrigger, id, (final ? 1 : 0) | (savepoint ? 2 : 0));
    this.armExpiry();
    this.host.triggerCheckpoint(id, base !== undefined ? { final, savepoint, base } : stop ? { final, savepoint, stop } : final || savepoint ? { final, savepoint } : PERIODIC);
    return id;
  }

  /** The task index of the current deployment, made once per names array (the runner builds one per deploy). */
  private index?: TaskIndex;
  private tasksOf(names: string[]): TaskIndex {
    const i = this.index;
    return i !== undefined && i.names === names ? i : (this.index = taskIndex(names));
  }

  /** One expiry timer for the oldest pending checkpoint: one per checkpoint would crowd the scheduler's heap. */
  private armExpiry(): void {
    let first = Infinity;
    for (const p of this.pending.values()) first = Math.min(first, this.policy.expiresAt(p.triggerTime));
    if (first === Infinity || first >= this.expiryAt) return;
    this.expiryAt = first;
    this.host.kernel.at(first, this.expiry);
  }

  private readonly expiry: Action;

  acknowledge(task: string, checkpointId: number, handle: StateHandle, s: SubtaskCheckpointStats, now: number): AckResult {
    const p = this.pending.get(checkpointId);
    if (!p) return "unknown";
    const r = acknowledge(p, task, { handle, stats: s });
    if (r !== "ok") return r;
    this.stats.acknowledged(p, s);
    if (isFullyAcknowledged(p)) this.complete(p, now);
    return r;
  }

  decline(task: string, checkpointId: number, reason: CheckpointFailureReasonKey, cause: string, now: number): void {
    const p = this.pending.get(checkpointId);
    if (p) this.abortPending(p, now, reason, `${task}: ${cause}`);
  }

  private complete(p: PendingCheckpoint, now: number): void {
    const id = p.id;
    this.host.fault("checkpoint.metadata", "coordinator", id);
    const handles = handlesByTask(p);
    try {
      this.storageFor(id).writeMetadata({ checkpointId: id, timestamp: now, savepoint: p.savepoint, maxParallelism: this.maxParallelism, handles });
    } catch (e) {
      if (e instanceof ProcessKilled) throw e; // the process died in the write: nothing is left to abort
      // A write that failed part-way (an fsync of the directory after the rename) may have left a
      // whole _metadata on disk all the same: for a process that dies before the abort's discard
      // (or whose discard did not last), the disk says whether this checkpoint completed.
      this.finalizeFailed.add(id);
      this.abortPending(p, now, "FINALIZE_CHECKPOINT_FAILURE", (e as Error).message);
      return;
    }
    // Past the commit point: the checkpoint exists even if we crash before notifying.
    const c = complete(p, now, handles);
    const stop = id === this.stopSavepoint;
    this.pending.delete(id);
    this.bases.delete(id);
    this.store.add(c, this.bases, stop);
    this.policy.completed(now);
    this.failures.onSuccess(id);
    this.stats.completed(id, now);
    this.tr.event(this.host.kernel.now(), COORDINATOR_TRACE_ID, "coordinator", TraceEvent.cpComplete, id, p.savepoint ? 1 : 0);
    this.host.checkpointCompleted?.(id, this.storageFor(id), p.savepoint, handles);
    // Older pending checkpoints are subsumed (a savepoint subsumes nothing, and is never subsumed).
    if (!p.savepoint && this.pending.size > 0) for (const older of [...this.pending.values()]) if (older.id < id && !older.savepoint) this.abortPending(older, now, "CHECKPOINT_SUBSUMED", `subsumed by checkpoint ${id}`);
    this.host.fault("checkpoint.complete", "coordinator", id);
    // As in Flink (1.15 on), a savepoint that does not stop the job notifies no task: nothing
    // commits on it (a sink's transaction of it commits with the next checkpoint), and a task
    // that heard of it would take it for a newer completion and drop its older checkpoints in
    // progress, which the coordinator still waits for. A stop's savepoint notifies (it ends the job).
    if (!p.savepoint || stop) this.host.notifyCheckpointComplete(id, p.final, stop);
    if (p.savepoint) this.host.savepointCompleted?.(id);
    this.afterEnd(now);
  }

  private abortPending(p: PendingCheckpoint, now: number, reason: CheckpointFailureReasonKey, cause?: string): void {
    if (!this.pending.delete(p.id)) return;
    this.bases.delete(p.id);
    this.discard(p.id);
    const a = abort(p, now, reason, cause);
    this.stats.failed(a);
    this.host.trace(`coordinator abort cp=${p.id} ${reason}`);
    this.host.notifyCheckpointAborted(p.id, reason);
    if (p.final) this.finalWanted = true;
    if (p.savepoint && this.suspended) {
      // The stop failed: periodic checkpoints resume, as Flink restarts its scheduler.
      this.suspended = false;
      this.arm(this.policy.nextPeriodic());
    }
    this.store.release(this.bases);
    this.host.checkpointFailed?.(p.id, reason, p.savepoint);
    const fail = this.failures.onFailure(p.id, reason, p.savepoint);
    if (fail) return this.host.failJob(fail);
    this.afterEnd(now);
  }

  /** An aborted checkpoint's files go; a failing disk does not stop the abort (discardQuietly). */
  private discard(id: number): void {
    discardQuietly(this.storageFor(id), id, (l) => this.host.trace(l));
  }

  private afterEnd(now: number): void {
    if (!this.finalWanted && !this.queued) return;
    this.queued = false;
    this.arm(now);
  }

  /** `task` failed: pending checkpoints it has not acknowledged cannot complete (Flink's TASK_FAILURE). */
  onTaskFailure(task: string, now: number, cause: string): void {
    for (const p of [...this.pending.values()]) {
      if (!isWaitingFor(p, task)) continue;
      this.pending.delete(p.id);
      this.stats.failed(abort(p, now, "TASK_FAILURE", `${task}: ${cause}`));
      this.host.checkpointFailed?.(p.id, "TASK_FAILURE", p.savepoint);
      this.discard(p.id);
    }
  }

  /**
   * A failover cancels every pending checkpoint; tasks are gone, so nobody is notified, and nothing
   * counts. The coordinator's state is reset before any file is touched: deleting files is
   * housekeeping, and a failure there (a crash injected at a disk call) leaves only files behind.
   */
  onFailover(now: number): void {
    const cancelled = [...this.pending.values()];
    this.pending.clear();
    this.bases.clear();
    Object.assign(this, { running: false, timerAt: Infinity, expiryAt: Infinity });
    for (const p of cancelled) {
      this.stats.failed(abort(p, now, "JOB_FAILOVER_REGION"));
      this.host.checkpointFailed?.(p.id, "JOB_FAILOVER_REGION", p.savepoint);
    }
    this.host.checkpointingStopped?.();
    for (const p of cancelled) this.discard(p.id);
    this.store.release(this.bases);
  }
}

/** The acks' handles in task-name order (the metadata's): one array of the final size, every ack present. */
function handlesByTask(p: PendingCheckpoint): StateHandle[] {
  const order = p.tasks.byName;
  const out = new Array<StateHandle>(order.length);
  for (let k = 0; k < order.length; k++) out[k] = p.acks[order[k]]!.handle;
  return out;
}
