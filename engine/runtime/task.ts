import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { FaultPoint } from "../checkpoint/faults.ts";
import { IncrementalTracker } from "../checkpoint/incremental.ts";
import type { ChannelReceiver } from "./channel.ts";
import type { StreamElement } from "./elements.ts";
import { END } from "./elements.ts";
import type { OperatorSnapshot, StreamOperator } from "./operator.ts";
import type { RecordWriter } from "./record-writer.ts";
import type { KeyedStateBackend } from "../state/keyed-state.ts";

/** A subtask's snapshot: one entry per operator uid of its chain. */
export type TaskSnapshot = Record<string, OperatorSnapshot>;

export interface SnapshotTiming {
  readonly checkpointId: number;
  readonly alignmentMs: number;
  readonly syncWallMs: number;
}

/** What a task needs from the job around it (the job runner implements it). */
export interface TaskHost {
  readonly kernel: Kernel;
  readonly aligned: boolean;
  readonly checkpointing: boolean;
  readonly bufferTimeout: number;
  /** Write keyed state as deltas against the last completed checkpoint (execution.checkpointing.incremental). */
  readonly incremental: boolean;
  fault(point: FaultPoint, task: string, checkpointId?: number): void;
  trace(line: string): void;
  failTask(task: Task, error: unknown): void;
  /** Sync phase done: the host runs the async phase (write) and the ack as later events. */
  snapshotTaken(task: Task, snapshot: TaskSnapshot, timing: SnapshotTiming, final: boolean): void;
  sourceReachedEnd(task: Task): void;
  taskFinished(task: Task): void;
  wallMs(): number;
}

export type TaskStatus = "running" | "finishing" | "finished" | "canceled";

/**
 * A subtask: a chain of operators, its output writers, and its place in the scheduler.
 * A task runs in steps; each step handles a bounded number of elements and yields, so other
 * tasks interleave in an order the seed decides.
 */
export abstract class Task implements Runnable, ChannelReceiver {
  status: TaskStatus = "running";
  private scheduledAt = Infinity;
  /** Short id for the per-batch trace lines ("v1.0": vertex 1, subtask 0); full names go in the rare ones. */
  protected readonly tid: string;

  constructor(
    readonly name: string,
    readonly vertexId: number,
    readonly subtask: number,
    protected readonly host: TaskHost,
    readonly chain: StreamOperator[],
    readonly uids: string[],
    readonly writers: RecordWriter[],
    readonly keyedBackend: KeyedStateBackend | undefined,
  ) {
    this.tid = `v${vertexId}.${subtask}`;
  }

  get head(): StreamOperator {
    return this.chain[0];
  }

  wake(at: number): void {
    if (this.status === "canceled" || this.status === "finished") return;
    if (at < this.scheduledAt) {
      this.scheduledAt = at;
      this.host.kernel.at(at, this);
    }
  }

  run(now: number): void {
    if (now !== this.scheduledAt || this.status === "canceled" || this.status === "finished") return;
    this.scheduledAt = Infinity;
    try {
      this.step(now);
    } catch (e) {
      this.host.failTask(this, e);
    }
  }

  protected abstract step(now: number): void;

  protected fault(point: FaultPoint, checkpointId?: number): void {
    this.host.fault(point, this.name, checkpointId);
  }

  private flushAt = Infinity;
  private readonly flusher: Runnable = {
    run: (now) => {
      if (now !== this.flushAt) return;
      this.flushAt = Infinity;
      if (this.status === "running" || this.status === "finishing") this.flushNow();
    },
  };

  protected flushNow(): void {
    for (const w of this.writers) w.flush();
  }

  /** End of a step: ship full batches now, partial ones within the buffer timeout (Flink's output flusher). */
  protected flush(): void {
    const timeout = this.host.bufferTimeout;
    if (timeout <= 0) return this.flushNow();
    if (this.flushAt !== Infinity) return;
    for (const w of this.writers) {
      if (w.buffered() > 0) {
        this.flushAt = this.host.kernel.now() + timeout;
        this.host.kernel.at(this.flushAt, this.flusher);
        return;
      }
    }
  }

  protected broadcast(el: StreamElement): void {
    for (const w of this.writers) w.broadcast(el);
  }

  /** Sync phase: capture every operator's state, then send the barrier on. */
  protected snapshot(checkpointId: number, final: boolean, alignmentMs: number): void {
    this.fault("checkpoint.sync-snapshot", checkpointId);
    const t0 = this.host.wallMs();
    const snap: TaskSnapshot = {};
    for (let i = 0; i < this.chain.length; i++) {
      const s = this.chain[i].snapshotState(checkpointId);
      const delta = this.host.incremental && this.keyedBackend ? this.increments.delta(checkpointId, this.uids[i], s.keyed) : undefined;
      snap[this.uids[i]] = delta ? { ...s, keyed: [], delta } : s;
    }
    const syncWallMs = this.host.wallMs() - t0;
    this.broadcast({ kind: "barrier", checkpointId, final });
    this.host.trace(`${this.name} snapshot cp=${checkpointId}`);
    this.host.snapshotTaken(this, snap, { checkpointId, alignmentMs, syncWallMs }, final);
  }

  private readonly increments = new IncrementalTracker();

  notifyCheckpointComplete(checkpointId: number): void {
    if (this.status === "canceled" || this.status === "finished") return;
    this.increments.completed(checkpointId);
    try {
      for (const op of this.chain) op.notifyCheckpointComplete(checkpointId);
      this.afterCheckpointComplete(checkpointId);
    } catch (e) {
      this.host.failTask(this, e);
    }
  }

  protected afterCheckpointComplete(_checkpointId: number): void {}

  notifyCheckpointAborted(checkpointId: number): void {
    if (this.status === "canceled" || this.status === "finished") return;
    for (const op of this.chain) op.notifyCheckpointAborted(checkpointId);
  }

  cancel(): void {
    this.status = "canceled";
    for (const op of this.chain) {
      try {
        op.close();
      } catch {
        // closing a canceled task must not mask the failure that canceled it
      }
    }
    this.keyedBackend?.dispose();
  }

  protected finish(): void {
    this.broadcast(END);
    this.status = "finished";
    for (const op of this.chain) op.close();
    this.keyedBackend?.dispose();
    this.host.trace(`${this.name} finished`);
    this.host.taskFinished(this);
  }
}
