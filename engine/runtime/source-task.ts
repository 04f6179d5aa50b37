import { END_OF_INPUT, type ReaderOutput, type SourceReader } from "../api/source.ts";
import type { WatermarkStrategy } from "../api/watermark-strategy.ts";
import { MAX_WATERMARK, MIN_WATERMARK } from "./elements.ts";
import type { StreamOperator } from "./operator.ts";
import type { RecordWriter } from "./record-writer.ts";
import type { CheckpointOptions } from "../checkpoint/gateway.ts";
import type { TaskClock } from "../checkpoint/faults.ts";
import { FULL_SNAPSHOTS } from "../checkpoint/snapshot-strategy.ts";
import { Task, type TaskHost } from "./task.ts";
import { TraceEvent } from "../kernel/trace.ts";

/**
 * A source subtask: polls its reader for what has arrived, assigns timestamps, generates
 * watermarks per split (combined by minimum; a finished split no longer holds them back),
 * and turns checkpoint triggers into barriers.
 */
export class SourceTask<T> extends Task implements ReaderOutput<T> {
  private readonly splitMax: number[];
  private readonly splitDone: boolean[];
  private watermark = MIN_WATERMARK;
  private emitted = 0;
  private readonly pollInterval: number;
  /** This TaskManager's clock when a fault skews it; undefined = the kernel's time (no cost). */
  private readonly clock: TaskClock | undefined;

  constructor(
    name: string, vertexId: number, vertexName: string, subtask: number, host: TaskHost, chain: StreamOperator[], uids: string[], writers: RecordWriter[],
    readonly reader: SourceReader<T>,
    splitCount: number,
    private readonly strategy: WatermarkStrategy<T>,
    private readonly batchSize: number,
    private readonly watermarkInterval: number,
    pollInterval: number,
  ) {
    super(name, vertexId, vertexName, subtask, host, chain, uids, writers, undefined, FULL_SNAPSHOTS, true);
    this.pollInterval = reader.pollInterval ?? pollInterval;
    this.splitMax = new Array(splitCount).fill(MIN_WATERMARK);
    this.splitDone = new Array(splitCount).fill(false);
    this.clock = host.clockOf?.(name);
  }

  collect(split: number, value: T, timestamp: number): void {
    const a = this.strategy.assigner;
    const ts = a === undefined ? timestamp : a(value, timestamp);
    if (ts > this.splitMax[split]) this.splitMax[split] = ts;
    this.emitted++;
    this.head.processElement(value, ts);
  }

  /** ReaderOutput hook: a reader's own watermark (only sources with WatermarkStrategy.noWatermarks() get here). */
  emitReaderWatermark(wm: number): void {
    if (this.strategy.kind !== "none" || !(wm > this.watermark)) return;
    this.watermark = wm;
    this.head.processWatermark(wm);
  }

  splitFinished(split: number): void {
    this.splitDone[split] = true;
  }

  /**
   * The stop-with-savepoint whose barrier this source emitted: it reads nothing more until the job
   * stops, or the savepoint is aborted and the job runs on. Under AT_LEAST_ONCE a record read
   * after the barrier would reach the snapshot of a task still waiting for another channel's
   * barrier, and be read again by the job started from the savepoint.
   */
  private stoppedAt?: number;
  /**
   * Checkpoints aborted before their trigger reached this task (the notice overtook the trigger
   * RPC): a stop whose savepoint is already aborted must not stop the source, since no abort
   * notice would come again to let it read on. Pruned at each trigger.
   */
  private readonly abortedEarly = new Set<number>();

  protected step(now: number): void {
    if (this.status !== "running" || this.stoppedAt !== undefined) return;
    this.emitted = 0;
    const next = this.reader.pollNext(now, this.batchSize, this);
    if (this.emitted > 0) {
      this.fault("task.process");
      this.tr.event(now, this.tcode, this.tid, TraceEvent.emit, this.emitted);
    }
    // Processing-time decisions (watermark interval, poll sleep) read this task's own clock.
    const local = this.clock === undefined ? now : this.clock.local(now);
    let wmAt = Infinity;
    if (local >= this.nextWatermarkAt) this.emitWatermark(local);
    else if (this.pendingWatermark()) wmAt = this.toKernel(this.nextWatermarkAt, now);
    if (next === END_OF_INPUT) {
      this.flush();
      this.endOfInput();
    } else {
      // A full batch means more may be waiting now; otherwise sleep until the next tick of the
      // poll interval. Ticks sit on a grid of this task's clock (as a fixed-rate fetcher's do), so
      // the subtasks of a source poll, emit watermarks and flush at the same instants, and a task
      // downstream is woken once per tick rather than once per upstream subtask.
      const earliest = this.emitted >= this.batchSize ? now : this.toKernel(nextTick(local, this.pollInterval), now);
      let at = Math.min(Math.max(next, earliest), wmAt);
      if (at < now) at = now;
      this.flush(at);
      if (at !== Infinity) this.wake(at);
    }
  }

  /** Periodic watermarks fall on a grid of the interval, like the poll ticks (Flink's auto-watermark timer). */
  private nextWatermarkAt = -Infinity;

  /** A time on this task's clock as the kernel's time, to schedule a wake-up at it. */
  private toKernel(local: number, now: number): number {
    return this.clock === undefined ? local : this.clock.kernelAt(local, now);
  }

  private pendingWatermark(): boolean {
    return this.strategy.kind !== "none" && this.currentWatermark() > this.watermark;
  }

  private currentWatermark(): number {
    let wm = Infinity;
    const d = this.strategy.outOfOrderness;
    for (let i = 0; i < this.splitMax.length; i++) {
      if (this.splitDone[i]) continue;
      const w = this.splitMax[i] - d - 1;
      if (w < wm) wm = w;
    }
    return wm === Infinity ? -Infinity : wm;
  }

  /** Periodic watermark emission (Flink's auto-watermark interval), combined by minimum over live splits. */
  private emitWatermark(now: number): void {
    if (this.strategy.kind === "none") return;
    const wm = this.currentWatermark();
    if (wm > this.watermark) {
      this.watermark = wm;
      this.nextWatermarkAt = nextTick(now, this.watermarkInterval);
      this.head.processWatermark(wm);
    }
  }

  private endOfInput(): void {
    // Flink: a bounded source ends with MAX_WATERMARK whatever the strategy, firing every window.
    this.watermark = MAX_WATERMARK;
    this.head.processWatermark(MAX_WATERMARK);
    this.flushNow();
    this.host.trace(`${this.name} end-of-input`);
    if (this.finishRule.inputEnded()) {
      for (const op of this.chain) op.endInput();
      this.finish();
    } else {
      // Wait for the final checkpoint, so the last epoch is committed exactly once (FLIP-147).
      this.status = "finishing";
      this.host.sourceReachedEnd(this);
    }
  }

  /** Coordinator's trigger (an RPC in Flink): snapshot offsets and state, emit the barrier. */
  override triggerCheckpoint(checkpointId: number, options: CheckpointOptions): void {
    if (this.status === "canceled" || this.status === "finished") return;
    try {
      this.fault("checkpoint.source-snapshot", checkpointId);
      this.snapshot(checkpointId, options, 0, false);
      // A newer checkpoint means the stop failed: the coordinator triggers none while a stop is
      // pending. Its abort notice may have been lost, so the source reads on now, as Flink's
      // StreamTask clears its active synchronous savepoint when triggered for a newer checkpoint.
      if (this.stoppedAt !== undefined && checkpointId > this.stoppedAt) {
        this.stoppedAt = undefined;
        this.wake(this.host.kernel.now());
      }
      if (options.stop && !this.abortedEarly.has(checkpointId)) this.stoppedAt = checkpointId;
      if (this.abortedEarly.size > 0) for (const a of this.abortedEarly) if (a <= checkpointId) this.abortedEarly.delete(a);
    } catch (e) {
      this.host.failTask(this, e);
    }
  }

  override notifyCheckpointAborted(checkpointId: number): void {
    super.notifyCheckpointAborted(checkpointId);
    if (checkpointId !== this.stoppedAt) {
      if (this.status !== "canceled" && this.status !== "finished") this.abortedEarly.add(checkpointId);
      return;
    }
    this.stoppedAt = undefined;
    this.wake(this.host.kernel.now());
  }

  protected override finishAfterFinalCheckpoint(): void {
    for (const op of this.chain) op.endInput();
    this.finish();
  }
}

/** The first multiple of `interval` after `now` (`now` itself when polling is continuous). */
function nextTick(now: number, interval: number): number {
  return interval > 0 ? Math.floor(now / interval) * interval + interval : now;
}
