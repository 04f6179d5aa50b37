import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { FaultPoint, TaskClock } from "../checkpoint/faults.ts";
import type { CheckpointOptions } from "../checkpoint/gateway.ts";
import { EndOfInput } from "../checkpoint/end-of-input.ts";
import type { SnapshotStrategy } from "../checkpoint/snapshot-strategy.ts";
import { SubtaskCheckpointer, type CheckpointedTask, type CheckpointerHost } from "../checkpoint/subtask-checkpointer.ts";
import type { AlignmentConfig } from "../checkpoint/alignment/types.ts";
import type { ChannelReceiver } from "./channel.ts";
import type { StreamElement } from "./elements.ts";
import { END } from "./elements.ts";
import type { StreamOperator } from "./operator.ts";
import type { RecordWriter } from "./record-writer.ts";
import type { KeyedStateBackend } from "../state/keyed-state.ts";

export type { TaskSnapshot } from "../checkpoint/subtask-checkpointer.ts";

/** What a task needs from the job around it (the job runner implements it). */
export interface TaskHost extends CheckpointerHost {
  readonly kernel: Kernel;
  readonly alignment: AlignmentConfig;
  readonly checkpointing: boolean;
  readonly bufferTimeout: number;
  fault(point: FaultPoint, task: string, checkpointId?: number): void;
  /** A source task's skewed clock from the fault injector (undefined: the kernel's time). */
  clockOf?(task: string): TaskClock | undefined;
  trace(line: string): void;
  failTask(task: Task, error: unknown): void;
  sourceReachedEnd(task: Task): void;
  taskFinished(task: Task): void;
}

export type TaskStatus = "running" | "finishing" | "finished" | "canceled";

/**
 * A subtask: a chain of operators, its output writers, and its place in the scheduler.
 * A task runs in steps; each step handles a bounded number of elements and yields, so other
 * tasks interleave in an order the seed decides.
 */
export abstract class Task implements Runnable, ChannelReceiver, CheckpointedTask {
  status: TaskStatus = "running";
  protected readonly checkpointer: SubtaskCheckpointer;
  protected readonly finishRule: EndOfInput;
  private scheduledAt = Infinity;
  /** Short id for the per-batch trace lines ("v1.0": vertex 1, subtask 0); full names go in the rare ones. */
  protected readonly tid: string;

  constructor(
    readonly name: string,
    readonly vertexId: number,
    readonly vertexName: string,
    readonly subtask: number,
    protected readonly host: TaskHost,
    readonly chain: StreamOperator[],
    readonly uids: string[],
    readonly writers: RecordWriter[],
    readonly keyedBackend: KeyedStateBackend | undefined,
    strategy: SnapshotStrategy,
    isSource: boolean,
  ) {
    this.tid = `v${vertexId}.${subtask}`;
    this.checkpointer = new SubtaskCheckpointer(this, host, strategy);
    this.finishRule = new EndOfInput(host.checkpointing, isSource);
  }

  isRunning(): boolean {
    return this.status === "running" || this.status === "finishing";
  }

  fail(error: unknown): void {
    this.host.failTask(this, error);
  }

  /** Virtual time until which the task does nothing (a slow sync phase or alignment). */
  protected stalledUntil = -Infinity;

  protected stall(ms: number): void {
    if (ms <= 0) return;
    const until = this.host.kernel.now() + ms;
    if (until > this.stalledUntil) this.stalledUntil = until;
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
    if (now < this.stalledUntil) return this.wake(this.stalledUntil);
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

  emitBarrier(checkpointId: number, options: CheckpointOptions, delay: number): void {
    this.stall(delay);
    for (const w of this.writers) w.broadcast({ kind: "barrier", checkpointId, options }, delay);
  }

  /** Sync phase, through the checkpointer; the end-of-input rule hears of final snapshots. */
  protected snapshot(checkpointId: number, options: CheckpointOptions, alignmentMs: number, unaligned: boolean): void {
    this.finishRule.snapshotTaken(checkpointId, options.final);
    this.checkpointer.checkpointState(checkpointId, options, alignmentMs, unaligned);
  }

  /** Coordinator's trigger (an RPC in Flink); only sources receive it. */
  triggerCheckpoint(_checkpointId: number, _options: CheckpointOptions): void {}

  notifyCheckpointComplete(checkpointId: number): void {
    if (this.status === "canceled" || this.status === "finished") return;
    this.checkpointer.notifyComplete(checkpointId);
    try {
      for (const op of this.chain) op.notifyCheckpointComplete(checkpointId);
      if (this.finishRule.checkpointCompleted(checkpointId)) this.finishAfterFinalCheckpoint();
    } catch (e) {
      this.host.failTask(this, e);
    }
  }

  notifyCheckpointAborted(checkpointId: number): void {
    if (this.status === "canceled" || this.status === "finished") return;
    this.checkpointer.notifyAborted(checkpointId);
    for (const op of this.chain) op.notifyCheckpointAborted(checkpointId);
  }

  /** The final checkpoint completed after the input ended. */
  protected finishAfterFinalCheckpoint(): void {
    this.finish();
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
