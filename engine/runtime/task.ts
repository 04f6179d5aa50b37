import type { Kernel, Runnable } from "../kernel/kernel.ts";
import { subtaskTraceId, subtaskTraceName, type Trace } from "../kernel/trace.ts";
import type { FaultPoint, TaskClock } from "../checkpoint/faults.ts";
import type { CheckpointOptions } from "../checkpoint/gateway.ts";
import { EndOfInput } from "../checkpoint/end-of-input.ts";
import type { SnapshotStrategy } from "../checkpoint/snapshot-strategy.ts";
import { SubtaskCheckpointer, type CheckpointedTask, type CheckpointerHost } from "../checkpoint/subtask-checkpointer.ts";
import type { AlignmentConfig, AlignmentEvent } from "../checkpoint/alignment/types.ts";
import type { ChannelReceiver } from "./channel.ts";
import type { RpcEndpoint } from "./transport.ts";
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
  /** Where a task fed by channels reports its barrier handling, if anyone listens. */
  inputObserver?(task: string): ((e: AlignmentEvent, blocked: readonly boolean[]) => void) | undefined;
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
export abstract class Task implements Runnable, ChannelReceiver, CheckpointedTask, RpcEndpoint {
  status: TaskStatus = "running";
  /** When the last coordinator message sent to this task arrives (RpcTransport keeps their order). */
  lastArrival = -Infinity;
  protected readonly checkpointer: SubtaskCheckpointer;
  protected readonly finishRule: EndOfInput;
  private scheduledAt = Infinity;
  /**
   * Times of this task's events still in the scheduler's queue (a handful at most). A wake at one
   * of them needs no new event: without this, a task woken earlier than planned and then again
   * for the planned time left two events at that time, one of them stale (a quarter of all p=4 events).
   */
  private readonly queued: number[] = [];
  /** Short id for the per-batch trace lines ("v1.0": vertex 1, subtask 0); full names go in the rare ones. */
  protected readonly tid: string;
  /** The same subtask as a number, for the trace's numeric per-batch events. */
  protected readonly tcode: number;
  /** The run's trace, for per-batch events (the host's `trace` takes the rare text lines). */
  protected readonly tr: Trace;

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
    this.tid = subtaskTraceName(vertexId, subtask);
    this.tcode = subtaskTraceId(vertexId, subtask);
    this.tr = host.kernel.trace;
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
      const now = this.host.kernel.now();
      if (at < now) at = now; // the kernel runs nothing in the past
      this.scheduledAt = at;
      if (this.queued.indexOf(at) >= 0) return;
      this.queued.push(at);
      this.host.kernel.at(at, this);
    }
  }

  run(now: number): void {
    const q = this.queued;
    const k = q.indexOf(now);
    if (k >= 0) {
      q[k] = q[q.length - 1];
      q.pop();
    }
    if (now !== this.scheduledAt || this.status === "canceled" || this.status === "finished") return;
    this.scheduledAt = Infinity;
    if (now < this.stalledUntil) {
      // The output flusher is not stalled with the task (it is its own thread in Flink).
      this.flush(this.stalledUntil);
      return this.wake(this.stalledUntil);
    }
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

  /** When the oldest record not yet shipped must go (Infinity: none waiting). */
  private flushAt = Infinity;
  /** Time of the flusher event in the scheduler's queue, if any. */
  private flusherAt = Infinity;
  private readonly flusher: Runnable = {
    run: (now) => {
      if (now === this.flusherAt) this.flusherAt = Infinity;
      if (now < this.flushAt) return;
      this.flushAt = Infinity;
      if (this.status === "running" || this.status === "finishing") this.flushNow();
    },
  };

  protected flushNow(): void {
    for (const w of this.writers) w.flush();
  }

  /**
   * End of a step: ship full batches now, partial ones within the buffer timeout (Flink's output
   * flusher). `nextStep`: when this task steps again, if known. A step at or after the deadline
   * flushes itself, so a task that steps on a grid of the buffer timeout (a source) needs no
   * flusher event of its own per tick; one is queued only when the next step comes too late.
   */
  protected flush(nextStep = Infinity): void {
    const timeout = this.host.bufferTimeout;
    if (timeout <= 0) return this.flushNow();
    const now = this.host.kernel.now();
    if (this.flushAt <= now) {
      this.flushAt = Infinity;
      return this.flushNow();
    }
    if (this.flushAt === Infinity) {
      if (!this.anyBuffered()) return;
      this.flushAt = now + timeout;
    }
    if (nextStep > this.flushAt && this.flusherAt !== this.flushAt) {
      this.flusherAt = this.flushAt;
      this.host.kernel.at(this.flushAt, this.flusher);
    }
  }

  private anyBuffered(): boolean {
    for (const w of this.writers) if (w.buffered() > 0) return true;
    return false;
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
    try {
      this.fault("checkpoint.notify", checkpointId);
      this.checkpointer.notifyComplete(checkpointId);
      const chain = this.chain;
      for (let i = 0; i < chain.length; i++) chain[i].notifyCheckpointComplete(checkpointId);
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
