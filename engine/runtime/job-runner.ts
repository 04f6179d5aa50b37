import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { Logger } from "../api/logger.ts";
import type { World } from "../api/world.ts";
import type { CheckpointConfig } from "../api/checkpoint-config.ts";
import { CheckpointingMode } from "../api/checkpoint-config.ts";
import type { RestartStrategy } from "../api/restart-strategies.ts";
import { CheckpointCoordinator, type CoordinatorHost } from "../checkpoint/coordinator.ts";
import { CheckpointStatsTracker } from "../checkpoint/stats.ts";
import { InjectedCrash, ProcessKilled, type FaultPoint } from "../checkpoint/faults.ts";
import type { CheckpointStorage } from "../state/checkpoint-storage.ts";
import { serialize } from "../state/serde.ts";
import type { StateBackend } from "../state/backends.ts";
import type { JobGraph } from "./job-graph.ts";
import type { JobReport } from "./operator.ts";
import { RestartBackoff } from "./restart-backoff.ts";
import { loadLatestValid, type RestorePoint } from "./restore.ts";
import type { SnapshotTiming, Task, TaskHost, TaskSnapshot } from "./task.ts";
import { SourceTask } from "./source-task.ts";
import { StreamTask } from "./stream-task.ts";
import { deployTasks, type DeployHost } from "./deploy.ts";
import type { Trace } from "../kernel/trace.ts";
import type { Rng } from "../kernel/rng.ts";
import type { RealtimeDriver } from "./adapters/realtime-driver.ts";

export interface ExecutionOptions {
  /** Records per batch on the wire and per source poll. */
  batchSize: number;
  /** Elements a task handles before it yields to the scheduler. */
  maxElementsPerStep: number;
  /** Channel latency per batch, uniform in [min, max] ms of virtual time. */
  latencyMin: number;
  latencyMax: number;
  /** Coordinator <-> task message delay, uniform in [min, max]: triggers reach sources at different times, as RPCs do. */
  rpcLatencyMin: number;
  rpcLatencyMax: number;
  /** Delay of a snapshot's async phase, uniform in [min, max]. */
  asyncMin: number;
  asyncMax: number;
  /** Flink's execution.buffer-timeout: a partly filled batch waits at most this long (0: flush after every step). */
  bufferTimeout: number;
  /** Flink's pipeline.auto-watermark-interval: sources emit watermarks at most this often. */
  autoWatermarkInterval: number;
  /**
   * A source that has drained what arrived sleeps at least this long before polling again,
   * so arrivals a few ms apart are fetched as one batch (what a fetcher thread's queue does).
   * Trade order and timestamps are unaffected; only delivery latency grows by up to this much.
   */
  sourcePollInterval: number;
}

export const DEFAULT_EXECUTION: ExecutionOptions = {
  batchSize: 512, maxElementsPerStep: 8, latencyMin: 0, latencyMax: 2, rpcLatencyMin: 1, rpcLatencyMax: 30, asyncMin: 1, asyncMax: 5, bufferTimeout: 100, autoWatermarkInterval: 200, sourcePollInterval: 5,
};

export interface JobSpec {
  readonly jobName: string;
  readonly graph: JobGraph;
  readonly kernel: Kernel;
  readonly world: World;
  readonly log: Logger;
  readonly checkpoint: CheckpointConfig;
  readonly restart: RestartStrategy;
  readonly backend: StateBackend;
  readonly storage?: CheckpointStorage;
  readonly exec: ExecutionOptions;
  /** Restore from this checkpoint/savepoint storage first (a savepoint, or a new process after a kill). */
  readonly initialRestore?: RestorePoint;
  /** Take a savepoint at this virtual time into `storage`; with `stop`, end the job once it is complete (stop-with-savepoint). */
  readonly savepoint?: { readonly at: number; readonly storage: CheckpointStorage; readonly stop: boolean };
}

export type JobStatus = "CREATED" | "RUNNING" | "RESTARTING" | "FINISHED" | "FAILED" | "CANCELED";

class Rpc implements Runnable {
  constructor(private readonly fn: () => void) {}
  run(): void {
    this.fn();
  }
}

/**
 * Deploys the job graph as tasks and channels, runs it on the kernel, and fails over:
 * any failure cancels every task, waits the restart strategy's delay in virtual time, and
 * redeploys from the latest valid checkpoint (Flink's JobMaster with full-restart failover).
 */
export class JobRunner implements TaskHost, CoordinatorHost, DeployHost {
  status: JobStatus = "CREATED";
  failureReason?: string;
  failureCause?: unknown;
  readonly kernel: Kernel;
  readonly aligned: boolean;
  readonly checkpointing: boolean;
  readonly bufferTimeout: number;
  readonly incremental: boolean;
  readonly stats = new CheckpointStatsTracker();
  readonly reports: JobReport[] = [];
  readonly counters = new Map<string, number>();
  readonly coordinator?: CheckpointCoordinator;
  tasks: Task[] = [];
  attempt = 0;
  get startedFrom(): number | undefined {
    return this.spec.initialRestore?.checkpointId;
  }
  /** Set when a savepoint completed: the checkpoint id (the directory is chk-<id> under the savepoint storage). */
  savepointId?: number;
  restarts = 0;
  private readonly backoff: RestartBackoff;
  private readonly trace_: Trace;

  constructor(private readonly spec: JobSpec) {
    this.kernel = spec.kernel;
    this.trace_ = spec.kernel.trace;
    this.checkpointing = spec.checkpoint.isCheckpointingEnabled();
    this.aligned = spec.checkpoint.mode === CheckpointingMode.EXACTLY_ONCE;
    this.bufferTimeout = spec.exec.bufferTimeout;
    this.incremental = this.checkpointing && spec.checkpoint.incremental;
    this.rpcRng = spec.kernel.rng.fork("rpc");
    this.backoff = new RestartBackoff(spec.restart, spec.kernel.rng.fork("restart"));
    if (this.checkpointing) {
      if (!spec.storage) throw new Error("checkpointing is enabled but no checkpoint storage is configured");
      // As Flink does, the id counter continues after the checkpoint or savepoint restored from.
      this.coordinator = new CheckpointCoordinator(spec.checkpoint, spec.storage, this, this.stats, spec.graph.maxParallelism, (spec.initialRestore?.checkpointId ?? 0) + 1);
    }
  }

  /** Runs until the job finishes or fails, or virtual time passes `until`. */
  run(until = Infinity): void {
    this.status = "RUNNING";
    this.guard(() => this.deploy(this.spec.initialRestore));
    this.coordinator?.start(this.kernel.now());
    this.scheduleSavepoint();
    this.kernel.run(until);
    if (this.status === "RUNNING" || this.status === "RESTARTING") this.status = "CANCELED";
  }

  /**
   * Real-time run (sources on real sockets): the kernel follows the wall clock, and the loop
   * sleeps until the next event or until a transport reports data.
   */
  async runRealtime(driver: RealtimeDriver, until = Infinity): Promise<void> {
    this.status = "RUNNING";
    this.realtime = driver;
    this.kernel.advanceTo(driver.now());
    this.guard(() => this.deploy(this.spec.initialRestore));
    this.coordinator?.start(this.kernel.now());
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
  private readonly rpcRng: Rng;

  private rpcDelay(): number {
    const { rpcLatencyMin: lo, rpcLatencyMax: hi } = this.spec.exec;
    return lo + this.rpcRng.int(hi - lo + 1);
  }

  /** A source's transport got data: run the source now (and wake a sleeping real-time loop). */
  wakeSource(task: Task): void {
    task.wake(this.kernel.now());
    this.realtime?.notify();
  }

  private scheduleSavepoint(): void {
    const sp = this.spec.savepoint;
    if (!sp || !this.coordinator) return;
    this.kernel.at(sp.at, new Rpc(() => {
      if (this.status !== "RUNNING") return;
      try {
        this.coordinator!.triggerSavepoint(this.kernel.now(), sp.storage);
      } catch (e) {
        this.failJob(e);
      }
    }));
  }

  savepointCompleted(checkpointId: number): void {
    this.savepointId = checkpointId;
    const sp = this.spec.savepoint;
    if (!sp?.stop) return;
    // Stop once every task has had the notification (and committed): the RPCs take at most rpcLatencyMax.
    this.kernel.after(this.spec.exec.rpcLatencyMax + 1, new Rpc(() => {
      if (this.status !== "RUNNING") return;
      for (const t of this.tasks) if (t.status !== "finished") t.cancel();
      this.coordinator?.stop();
      this.status = "FINISHED";
      this.trace(`job stopped with savepoint ${checkpointId}`);
      this.kernel.stop();
    }));
  }

  // ---- TaskHost / CoordinatorHost ----

  trace(line: string): void {
    this.trace_.line(this.kernel.now(), line);
  }

  fault(point: FaultPoint, task: string, checkpointId?: number): void {
    this.spec.world.faults?.check({ point, task, checkpointId, time: this.kernel.now() });
  }

  wallMs(): number {
    return performance.now(); // real-time: checkpoint statistics only; never traced or decided on
  }

  count(what: string, n: number): void {
    this.counters.set(what, (this.counters.get(what) ?? 0) + n);
  }

  taskNames(): string[] {
    return this.tasks.map((t) => t.name);
  }

  failTask(task: Task, error: unknown): void {
    this.failover(task.name, error);
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
    this.coordinator?.onFailover(now);
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
    this.trace(`restart in ${d.delay}ms`);
    this.kernel.at(now + d.delay, new Rpc(() => {
      this.status = "RUNNING";
      this.restarts++;
      this.guard(() => {
        const rp = this.spec.storage ? loadLatestValid(this.spec.storage, this.spec.graph.maxParallelism) : undefined;
        this.stats.restores.push({ time: this.kernel.now(), attempt: this.attempt + 1, checkpointId: rp?.checkpointId ?? null, skipped: rp?.skipped ?? [] });
        this.trace(`restore from ${rp ? `cp=${rp.checkpointId}` : "scratch"}`);
        this.deploy(rp);
      });
      if (this.status === "RUNNING") {
        this.coordinator?.start(this.kernel.now());
        if (this.savepointId === undefined && (this.spec.savepoint?.at ?? -1) > this.kernel.now()) this.scheduleSavepoint();
      }
    }));
  }

  snapshotTaken(task: Task, snap: TaskSnapshot, timing: SnapshotTiming, _final: boolean): void {
    const attempt = this.attempt;
    const id = timing.checkpointId;
    const delay = this.spec.exec.asyncMin + this.rpcRng.int(this.spec.exec.asyncMax - this.spec.exec.asyncMin + 1);
    this.kernel.after(delay, new Rpc(() => {
      if (attempt !== this.attempt || task.status === "canceled") return;
      const coord = this.coordinator;
      if (!coord || !coord.isPending(id)) return;
      let handle;
      const t0 = this.wallMs();
      try {
        this.fault("checkpoint.async-write", task.name, id);
        const parent = Object.values(snap).find((o) => o.delta)?.delta?.parent;
        handle = coord.storageFor(id).writeState(id, { task: task.name, vertex: this.spec.graph.vertices[task.vertexId].name, subtask: task.subtask, ...(parent !== undefined ? { parent } : {}) }, serialize(snap));
        this.fault("checkpoint.ack", task.name, id);
      } catch (e) {
        this.failTask(task, e);
        return;
      }
      const stats = { task: task.name, ackTime: this.kernel.now(), alignmentMs: timing.alignmentMs, syncWallMs: timing.syncWallMs, asyncWallMs: this.wallMs() - t0, stateBytes: handle.bytes };
      const h = handle;
      this.kernel.after(this.rpcDelay(), new Rpc(() => {
        if (attempt !== this.attempt) return;
        try {
          coord.acknowledge(task.name, id, h, stats, this.kernel.now());
        } catch (e) {
          this.failJob(e);
        }
      }));
    }));
  }

  triggerSources(checkpointId: number, final: boolean): void {
    for (const t of this.tasks) {
      if (t instanceof SourceTask) this.kernel.after(this.rpcDelay(), new Rpc(() => t.triggerCheckpoint(checkpointId, final)));
    }
  }

  notifyComplete(checkpointId: number, final: boolean): void {
    for (const t of this.tasks) {
      this.kernel.after(this.rpcDelay(), new Rpc(() => {
        if (final && t instanceof SourceTask) t.finalCheckpointDone = true;
        t.notifyCheckpointComplete(checkpointId);
      }));
    }
  }

  notifyAborted(checkpointId: number): void {
    for (const t of this.tasks) {
      this.kernel.after(this.rpcDelay(), new Rpc(() => {
        if (t instanceof StreamTask) t.onCheckpointAborted(checkpointId);
        else t.notifyCheckpointAborted(checkpointId);
      }));
    }
  }

  allSourcesFinishing(): boolean {
    return this.tasks.every((t) => !(t instanceof SourceTask) || t.status === "finishing");
  }

  sourceReachedEnd(_task: SourceTask<any>): void {
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

  // ---- deployment ----

  private deploy(restore: RestorePoint | undefined): void {
    this.attempt++;
    this.tasks = [];
    deployTasks(this.spec, this, restore);
  }
}
