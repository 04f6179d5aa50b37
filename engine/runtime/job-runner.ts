import { performance } from "node:perf_hooks";
import type { Kernel } from "../kernel/kernel.ts";
import { CheckpointingMode } from "../api/checkpoint-config.ts";
import { CheckpointCoordinator, type CoordinatorHost } from "../checkpoint/coordinator.ts";
import type { CheckpointFailureReasonKey } from "../checkpoint/failure-reason.ts";
import type { CheckpointOptions, CoordinatorGateway } from "../checkpoint/gateway.ts";
import type { AlignmentConfig, AlignmentEvent } from "../checkpoint/alignment/types.ts";
import { CheckpointStatsTracker } from "../checkpoint/stats.ts";
import { InjectedCrash, ProcessKilled, type FaultPoint, type LosePoint, type TaskClock } from "../checkpoint/faults.ts";
import { failoverPoint, type RestorePoint } from "../checkpoint/restore.ts";
import type { TriggerKind } from "../checkpoint/trigger-policy.ts";
import type { CheckpointStorage } from "../state/checkpoint-storage.ts";
import type { JobReport } from "./operator.ts";
import { RestartBackoff } from "./restart-backoff.ts";
import type { Task, TaskHost } from "./task.ts";
import { deployTasks, type DeployHost } from "./deploy.ts";
import { SavepointTrigger } from "./savepoint-trigger.ts";
import { Call, RpcMessage, RpcTransport } from "./transport.ts";
import type { StateHandle } from "../state/checkpoint-storage.ts";
import type { SubtaskCheckpointStats } from "../checkpoint/checkpoint.ts";
import type { JobSpec } from "./job-spec.ts";
import type { Trace } from "../kernel/trace.ts";
import type { RealtimeDriver } from "./adapters/realtime-driver.ts";

export { DEFAULT_EXECUTION, type ExecutionOptions, type JobSpec } from "./job-spec.ts";

export type JobStatus = "CREATED" | "RUNNING" | "RESTARTING" | "FINISHED" | "FAILED" | "CANCELED";

/**
 * Deploys the job graph as tasks and channels, runs it on the kernel, and fails over: any failure cancels every task, waits
 * the restart strategy's delay in virtual time, and redeploys from the latest valid checkpoint (Flink's JobMaster with
 * full-restart failover). Between coordinator and tasks it is transport only: messages take an RPC latency and die with
 * the attempt that sent them.
 */
export class JobRunner implements TaskHost, CoordinatorHost, DeployHost {
  status: JobStatus = "CREATED";
  failureReason?: string;
  failureCause?: unknown;
  readonly kernel: Kernel;
  readonly alignment: AlignmentConfig;
  readonly checkpointing: boolean;
  readonly bufferTimeout: number;
  readonly incremental: boolean;
  readonly stats = new CheckpointStatsTracker();
  readonly reports: JobReport[] = [];
  readonly counters = new Map<string, number>();
  readonly coordinator?: CheckpointCoordinator;
  tasks: Task[] = [];
  private sources: Task[] = [];
  attempt = 0;
  get startedFrom(): number | undefined { return this.startPoint?.checkpointId; }
  /** What the first deployed attempt restored: the initial point, or the first failover's when reading that failed transiently. */
  get startPoint(): RestorePoint | undefined {
    return this.firstRestore;
  }
  private firstRestore?: RestorePoint;
  /**
   * Set when a savepoint completed: the checkpoint id (the directory is chk-<id> under the savepoint
   * storage). Completed means its metadata is written (the coordinator's commit point), not that the
   * completion was announced: a coordinator that crashed in between has a savepoint all the same,
   * and, when it is a stop's, a failover restores from it and a new process must not resume from
   * anything older.
   */
  get savepointId(): number | undefined {
    return this.coordinator?.latestSavepoint()?.id;
  }
  /** Set when the job ended by stop-with-savepoint (a failover between the savepoint and the stop cancels the stop, as in Flink). */
  stoppedWithSavepoint?: number;
  private readonly savepoints: SavepointTrigger;
  restarts = 0;
  /** The simulation's restart bound (run's `maxRestarts`): reached, the job stops RESTARTING, and run() calls it CANCELED. */
  private maxRestarts = Infinity;
  private readonly backoff: RestartBackoff;
  private readonly trace_: Trace;

  constructor(private readonly spec: JobSpec) {
    this.kernel = spec.kernel;
    this.trace_ = spec.kernel.trace;
    const cp = spec.checkpoint;
    this.checkpointing = cp.isCheckpointingEnabled();
    this.alignment = { exactlyOnce: cp.mode === CheckpointingMode.EXACTLY_ONCE, unaligned: cp.isUnalignedCheckpointsEnabled(), alignedTimeout: cp.getAlignedCheckpointTimeout() };
    this.bufferTimeout = spec.exec.bufferTimeout;
    this.incremental = this.checkpointing && cp.incremental;
    this.transport = new RpcTransport(this.kernel, spec.kernel.rng.fork("rpc"), spec.exec.rpcLatencyMin, spec.exec.rpcLatencyMax, this.currentAttempt);
    this.backoff = new RestartBackoff(spec.restart, spec.kernel.rng.fork("restart"));
    this.savepoints = new SavepointTrigger(spec.savepoint, {
      kernel: this.kernel,
      isRunning: () => this.status === "RUNNING",
      trigger: (storage) => this.toCoordinator(() => this.coordinator?.triggerSavepoint(this.kernel.now(), storage, spec.savepoint?.stop ?? false)),
      stop: (id) => {
        for (const t of this.tasks) if (t.status !== "finished") t.cancel();
        this.coordinator?.stop();
        this.status = "FINISHED";
        this.stoppedWithSavepoint = id;
        this.trace(`job stopped with savepoint ${id}`);
        this.kernel.stop();
      },
    }, spec.exec.rpcLatencyMax);
    if (this.checkpointing) {
      if (!spec.storage) throw new Error("checkpointing is enabled but no checkpoint storage is configured");
      // As Flink does, the id counter continues after the checkpoint or savepoint restored from,
      // and (the coordinator sees to it) after every checkpoint in storage; here also after every
      // savepoint in the job's savepoint directory, as Flink's HA counter never hands out an id
      // twice: a process resuming from an older checkpoint must not reuse a newer savepoint's id.
      const newestSavepoint = spec.savepoint?.storage.completedIds()[0] ?? 0;
      this.coordinator = new CheckpointCoordinator(cp, spec.storage, this, this.stats, spec.graph.maxParallelism, Math.max(spec.initialRestore?.checkpointId ?? 0, newestSavepoint) + 1);
    }
  }

  /** Runs until the job finishes or fails, or virtual time passes `until`. */
  run(until = Infinity, maxRestarts = Infinity): void {
    this.maxRestarts = maxRestarts;
    this.status = "RUNNING";
    this.guard(() => this.deploy(this.initialRestore()));
    // A first attempt that failed is restarting: the restart starts the coordinator.
    if (this.status === "RUNNING") {
      this.coordinator?.start(this.kernel.now());
      this.savepoints.arm();
    }
    this.kernel.run(until);
    if (this.status === "RUNNING" || this.status === "RESTARTING") this.status = "CANCELED";
  }

  /** Real-time run (sources on real sockets): the kernel follows the wall clock; the loop sleeps until the next event or data. */
  async runRealtime(driver: RealtimeDriver, until = Infinity): Promise<void> {
    this.status = "RUNNING";
    this.realtime = driver;
    this.kernel.advanceTo(driver.now());
    this.guard(() => this.deploy(this.initialRestore()));
    if (this.status === "RUNNING") this.coordinator?.start(this.kernel.now());
    while ((this.status === "RUNNING" || this.status === "RESTARTING") && !this.kernel.isStopped()) {
      const now = driver.now();
      if (now > until) break;
      this.kernel.advanceTo(now);
      if (this.status !== "RUNNING" && this.status !== "RESTARTING") break;
      await driver.wait(Math.min(this.kernel.peekTime() ?? Infinity, until));
    }
    if (this.status === "RUNNING" || this.status === "RESTARTING") {
      for (const t of this.tasks) t.cancel();
      this.status = "CANCELED";
    }
  }

  private realtime?: RealtimeDriver;
  private readonly transport: RpcTransport;

  /** A source's transport got data: run the source now (and wake a sleeping real-time loop). */
  wakeSource(task: Task): void {
    task.wake(this.kernel.now());
    this.realtime?.notify();
  }

  savepointCompleted(checkpointId: number): void {
    this.savepoints.completed(checkpointId);
  }

  checkpointingStarted(): void {
    this.spec.checkpointObserver?.started?.(this.kernel.now());
  }

  checkpointingStopped(): void {
    this.spec.checkpointObserver?.stopped?.(this.kernel.now());
  }

  checkpointTriggered(checkpointId: number, kind: TriggerKind, stop: boolean): void {
    this.spec.checkpointObserver?.triggered?.(checkpointId, kind, this.kernel.now(), stop);
  }

  checkpointCompleted(checkpointId: number, storage: CheckpointStorage, savepoint: boolean, handles: readonly StateHandle[]): void {
    this.spec.checkpointObserver?.completed?.({ checkpointId, time: this.kernel.now(), savepoint, handles, storage: storage.inspector(), maxParallelism: this.spec.graph.maxParallelism });
  }

  inputObserver(task: string): ((e: AlignmentEvent, blocked: readonly boolean[]) => void) | undefined {
    const o = this.spec.checkpointObserver;
    if (!o?.inputHandled) return undefined;
    const attempt = this.attempt;
    return (e, blocked) => o.inputHandled!(task, attempt, e, blocked);
  }

  checkpointFailed(checkpointId: number, reason: CheckpointFailureReasonKey, savepoint: boolean): void {
    this.spec.checkpointObserver?.failed?.(checkpointId, reason, savepoint, this.kernel.now());
  }

  // ---- what tasks and the coordinator share ----

  trace(line: string): void {
    this.trace_.line(this.kernel.now(), line);
  }

  fault(point: FaultPoint, task: string, checkpointId?: number): void {
    this.spec.world.faults?.check({ point, task, checkpointId, time: this.kernel.now() });
  }

  clockOf(task: string): TaskClock | undefined {
    return this.spec.world.faults?.clockOf?.(task);
  }

  slowdown(point: FaultPoint, task: string, checkpointId: number): number {
    const f = this.spec.world.faults;
    return f?.slowdown ? Math.max(0, f.slowdown({ point, task, checkpointId, time: this.kernel.now() })) : 0;
  }

  /** Whether the fault injector loses the RPC arriving now at `point` (to or from `task`); a lost one is traced, as `what`. */
  lost(point: LosePoint, task: string, checkpointId: number, what: string = point): boolean {
    const f = this.spec.world.faults;
    if (f?.lose === undefined || !f.lose({ point, task, checkpointId, time: this.kernel.now() })) return false;
    this.trace(`lost ${what} cp=${checkpointId} ${point === "checkpoint.ack" ? "from" : "to"} ${task}`);
    return true;
  }

  wallMs(): number {
    // Imported, not the global: `globalThis.performance` is a lazy accessor in Node, so every read
    // of the global went through a generic global-load stub (four per checkpoint; issue 11).
    return performance.now(); // real-time: checkpoint statistics only; never traced or decided on
  }

  ackLatency(): number {
    return this.transport.latency();
  }

  asyncDelay(): number {
    return this.spec.exec.asyncMin + this.transport.rng.int(this.spec.exec.asyncMax - this.spec.exec.asyncMin + 1);
  }

  storageFor(checkpointId: number): CheckpointStorage | undefined {
    const c = this.coordinator;
    return c?.isPending(checkpointId) ? c.storageFor(checkpointId) : undefined;
  }

  count(what: string, n: number): void {
    this.counters.set(what, (this.counters.get(what) ?? 0) + n);
  }

  // ---- the gateway: tasks -> coordinator ----

  readonly coordinatorGateway: CoordinatorGateway = {
    acknowledge: (task, id, handle, stats) => {
      this.transport.post(new AckMessage(this, task, id, handle, stats));
      return "ok";
    },
    acknowledgeArrived: (task, id, handle, stats) => {
      this.deliverAck(task, id, handle, stats);
      return "ok";
    },
    decline: (task, id, reason, cause) =>
      this.transport.send(() => {
        this.spec.checkpointObserver?.declined?.(id, task, reason, this.kernel.now());
        this.toCoordinator(() => this.coordinator?.decline(task, id, reason, cause, this.kernel.now()));
      }),
  };

  /** An acknowledgement arrived (AckMessage). */
  deliverAck(task: string, id: number, handle: StateHandle, stats: SubtaskCheckpointStats): void {
    const c = this.coordinator;
    if (!c || this.lost("checkpoint.ack", task, id)) return;
    try {
      c.acknowledge(task, id, handle, stats, this.kernel.now());
    } catch (e) {
      this.failJob(e);
    }
  }

  private toCoordinator(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failJob(e);
    }
  }

  // ---- the gateway: coordinator -> tasks ----

  /** The current attempt's task names, built once per deploy (every trigger asks). */
  private names: string[] = [];

  taskNames(): string[] {
    return this.names;
  }

  triggerCheckpoint(checkpointId: number, options: CheckpointOptions): void {
    for (const t of this.sources) this.transport.post(new TaskMessage(this, TRIGGER, t, checkpointId, options), t);
  }

  notifyCheckpointComplete(checkpointId: number, final: boolean, stop: boolean): void {
    const kind = stop || final ? LAST_COMPLETE : COMPLETE;
    for (const t of this.tasks) this.transport.post(new TaskMessage(this, kind, t, checkpointId), t);
  }

  notifyCheckpointAborted(checkpointId: number, _reason: CheckpointFailureReasonKey): void {
    for (const t of this.tasks) this.transport.post(new TaskMessage(this, ABORTED, t, checkpointId), t);
  }

  /** The attempt now running: an RPC sent in an earlier one is dropped on arrival. */
  readonly currentAttempt = (): number => this.attempt;

  // ---- life cycle ----

  failTask(task: Task, error: unknown): void {
    if (!(error instanceof ProcessKilled) && this.status === "RUNNING") {
      this.duringFailover(() => this.coordinator?.onTaskFailure(task.name, this.kernel.now(), error instanceof Error ? error.message : String(error)));
    }
    this.failover(task.name, error);
  }

  /**
   * The coordinator's clean-up as the job fails over (discarding the checkpoints that can no
   * longer complete). A crash injected there, at a failing disk call, is the coordinator failing
   * too: the failover under way is what that would cause, so it goes on. Anything else surfaces.
   */
  private duringFailover(cleanUp: () => void): void {
    try {
      cleanUp();
    } catch (e) {
      if (!(e instanceof InjectedCrash)) throw e;
      this.trace(`coordinator failed during failover: ${e.message}`);
    }
  }

  failJob(error: unknown): void {
    this.failover("coordinator", error);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failover("deploy", e);
    }
  }

  private failover(where: string, error: unknown): void {
    // A killed process does not fail over: nothing in it survives to do so.
    if (error instanceof ProcessKilled) throw error;
    if (this.status !== "RUNNING") return;
    const now = this.kernel.now();
    const msg = error instanceof Error ? error.message : String(error);
    this.stats.failures.push({ time: now, attempt: this.attempt, task: where, error: msg, injected: error instanceof InjectedCrash });
    this.trace(`failure in ${where}: ${msg}`);
    for (const t of this.tasks) t.cancel();
    this.kernel.clear();
    this.duringFailover(() => this.coordinator?.onFailover(now));
    const d = this.backoff.onFailure(now);
    if (!d.restart) {
      this.status = "FAILED";
      this.failureReason = `${d.reason}; last failure in ${where}: ${msg}`;
      this.failureCause = error;
      this.trace(`job FAILED: ${d.reason}`);
      this.kernel.stop();
      return;
    }
    this.status = "RESTARTING";
    if (this.restarts >= this.maxRestarts) {
      this.trace(`restart bound reached after ${this.restarts} restarts`);
      this.kernel.stop();
      return;
    }
    this.trace(`restart in ${d.delay}ms`);
    this.kernel.at(now + d.delay, new Call(() => {
      this.status = "RUNNING";
      this.restarts++;
      this.guard(() => {
        const rp = failoverPoint(this.spec.storage, this.spec.graph.maxParallelism, this.spec.reloadInitialRestore, this.spec.log, this.coordinator?.restorableSavepoint());
        this.stats.restores.push({ time: this.kernel.now(), attempt: this.attempt + 1, checkpointId: rp?.checkpointId ?? null, skipped: rp?.skipped ?? [] });
        this.trace(`restore from ${rp ? `cp=${rp.checkpointId}` : "scratch"}`);
        this.deploy(rp);
      });
      if (this.status === "RUNNING") {
        this.coordinator?.start(this.kernel.now());
        this.savepoints.arm();
      }
    }));
  }

  allSourcesFinishing(): boolean {
    for (const t of this.sources) if (t.status !== "finishing") return false;
    return true;
  }

  sourceReachedEnd(_task: Task): void {
    if (this.allSourcesFinishing()) this.coordinator?.requestFinal(this.kernel.now());
  }

  taskFinished(_task: Task): void {
    if (this.tasks.every((t) => t.status === "finished")) {
      this.status = "FINISHED";
      this.coordinator?.stop();
      this.trace("job FINISHED");
      this.kernel.stop();
    }
  }

  private initialRestore(): RestorePoint | undefined {
    if (this.spec.initialRestoreError) throw this.spec.initialRestoreError;
    return this.spec.initialRestore;
  }

  private deploy(restore: RestorePoint | undefined): void {
    if (this.attempt === 0) this.firstRestore = restore;
    if (restore) this.coordinator?.restoredFrom(restore.checkpointId);
    this.attempt++;
    this.tasks = [];
    this.sources = [];
    const d = deployTasks(this.spec, this, restore);
    this.tasks = d.tasks;
    this.sources = d.sources;
    this.names = d.tasks.map((t) => t.name);
  }
}

/** LAST_COMPLETE: the notice of a final checkpoint or a stop-with-savepoint, which tasks finish on; never lost (LOSE_POINTS). */
const TRIGGER = 0, COMPLETE = 1, ABORTED = 2, LAST_COMPLETE = 3;

/** Coordinator -> one task: a trigger (sources only), or a completion or abort notice. */
class TaskMessage extends RpcMessage {
  /** A completion notice the fault injector made late, arriving now: it is not delayed again. */
  private late = false;
  constructor(private readonly runner: JobRunner, private readonly kind: typeof TRIGGER | typeof COMPLETE | typeof ABORTED | typeof LAST_COMPLETE, private readonly task: Task, private readonly id: number, private readonly options?: CheckpointOptions) {
    super(runner.attempt, runner.currentAttempt);
  }
  protected deliver(): void {
    const kind = this.kind, r = this.runner;
    if (kind === TRIGGER) {
      if (!r.lost("checkpoint.trigger", this.task.name, this.id)) this.task.triggerCheckpoint(this.id, this.options!);
    } else if (kind === ABORTED) {
      if (!r.lost("checkpoint.notify", this.task.name, this.id, "abort notice")) this.task.notifyCheckpointAborted(this.id);
    } else {
      // A slow RPC to this task's TaskManager: the notice arrives later, and still dies with its attempt.
      const ms = this.late ? 0 : r.slowdown("checkpoint.notify", this.task.name, this.id);
      if (ms > 0) {
        this.late = true;
        return r.kernel.after(ms, this);
      }
      if (kind === COMPLETE && r.lost("checkpoint.notify", this.task.name, this.id)) return;
      this.task.notifyCheckpointComplete(this.id);
    }
  }
}

/** Task -> coordinator: an acknowledgement with the subtask's state handle and figures. */
class AckMessage extends RpcMessage {
  constructor(private readonly runner: JobRunner, private readonly task: string, private readonly id: number, private readonly handle: StateHandle, private readonly stats: SubtaskCheckpointStats) {
    super(runner.attempt, runner.currentAttempt);
  }
  protected deliver(): void {
    this.runner.deliverAck(this.task, this.id, this.handle, this.stats);
  }
}
