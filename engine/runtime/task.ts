import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { Rng } from "../kernel/rng.ts";
import type { FaultPoint } from "../checkpoint/faults.ts";
import { BarrierHandler } from "../checkpoint/barrier-handler.ts";
import { IncrementalTracker } from "../checkpoint/incremental.ts";
import type { Channel, ChannelReceiver } from "./channel.ts";
import type { StreamElement } from "./elements.ts";
import { END, MAX_WATERMARK, MIN_WATERMARK } from "./elements.ts";
import type { OperatorSnapshot, StreamOperator } from "./operator.ts";
import type { RecordWriter } from "./record-writer.ts";
import type { KeyedStateBackend } from "../state/keyed-state.ts";
import { END_OF_INPUT, type ReaderOutput, type SourceReader } from "../api/source.ts";
import type { WatermarkStrategy } from "../api/watermark-strategy.ts";

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
  sourceReachedEnd(task: SourceTask<any>): void;
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
  processedRecords = 0;

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

/** A task fed by network channels: watermark valve, barrier handling, end of partition. */
export class StreamTask extends Task {
  private readonly channelWm: number[];
  private readonly ended: boolean[];
  private endedCount = 0;
  private watermark = MIN_WATERMARK;
  private readonly barriers: BarrierHandler;
  private readonly ready: number[] = [];

  constructor(
    name: string, vertexId: number, subtask: number, host: TaskHost, chain: StreamOperator[], uids: string[], writers: RecordWriter[],
    keyedBackend: KeyedStateBackend | undefined,
    readonly inputs: Channel[],
    private readonly rng: Rng,
    private readonly maxElementsPerStep: number,
  ) {
    super(name, vertexId, subtask, host, chain, uids, writers, keyedBackend);
    this.channelWm = inputs.map(() => MIN_WATERMARK);
    this.ended = inputs.map(() => false);
    this.barriers = new BarrierHandler(this.ended, host.aligned);
  }

  protected step(now: number): void {
    const inputs = this.inputs;
    for (let n = 0; n < this.maxElementsPerStep && this.status === "running"; n++) {
      const ready = this.ready;
      ready.length = 0;
      for (let i = 0; i < inputs.length; i++) if (!this.barriers.isBlocked(i) && inputs[i].ready(now)) ready.push(i);
      if (ready.length === 0) break;
      const c = ready.length === 1 ? ready[0] : ready[this.rng.int(ready.length)];
      this.handle(c, inputs[c].poll(), now);
    }
    if (this.status !== "running") return;
    this.flush();
    let next = Infinity;
    for (let i = 0; i < inputs.length; i++) {
      if (this.barriers.isBlocked(i)) continue;
      const at = inputs[i].nextAt();
      if (at < next) next = at;
    }
    if (next !== Infinity) this.wake(next < now ? now : next);
  }

  private handle(c: number, el: StreamElement, now: number): void {
    switch (el.kind) {
      case "records": {
        this.fault("task.process");
        const vs = el.values;
        const ts = el.timestamps;
        const head = this.head;
        for (let i = 0; i < vs.length; i++) head.processElement(vs[i], ts[i]);
        this.processedRecords += vs.length;
        this.host.trace(`${this.tid} in=${c} n=${vs.length}`);
        return;
      }
      case "watermark":
        if (el.timestamp > this.channelWm[c]) {
          this.channelWm[c] = el.timestamp;
          this.advanceWatermark();
        }
        return;
      case "barrier": {
        this.fault("checkpoint.alignment", el.checkpointId);
        const d = this.barriers.onBarrier(c, el.checkpointId, el.final, now);
        if (d.kind === "snapshot") this.snapshot(d.checkpointId, d.final, d.alignmentMs);
        return;
      }
      case "end": {
        this.ended[c] = true;
        this.endedCount++;
        const d = this.barriers.onEndOfPartition(now);
        if (d.kind === "snapshot") this.snapshot(d.checkpointId, d.final, d.alignmentMs);
        if (this.endedCount === this.inputs.length) {
          if (this.watermark < MAX_WATERMARK) {
            this.watermark = MAX_WATERMARK;
            this.head.processWatermark(MAX_WATERMARK);
          }
          for (const op of this.chain) op.endInput();
          // With checkpointing, the final checkpoint's notification commits the last epoch:
          // finishing before it arrives would drop that commit (FLIP-147 waits for it too).
          if (this.host.checkpointing && this.finalSnapshot > this.lastCompleted) this.status = "finishing";
          else this.finish();
        } else this.advanceWatermark();
        return;
      }
    }
  }

  /** Combined watermark: the minimum over channels that have not ended. */
  private advanceWatermark(): void {
    let min = Infinity;
    let live = 0;
    for (let i = 0; i < this.channelWm.length; i++) {
      if (this.ended[i]) continue;
      live++;
      if (this.channelWm[i] < min) min = this.channelWm[i];
    }
    if (live === 0) return; // all ended: end of input emits the final watermark
    if (min > this.watermark) {
      this.watermark = min;
      this.host.trace(`${this.tid} wm=${min}`);
      this.head.processWatermark(min);
    }
  }

  private finalSnapshot = 0;
  private lastCompleted = 0;

  protected override snapshot(checkpointId: number, final: boolean, alignmentMs: number): void {
    if (final) this.finalSnapshot = checkpointId;
    super.snapshot(checkpointId, final, alignmentMs);
  }

  protected override afterCheckpointComplete(checkpointId: number): void {
    if (checkpointId > this.lastCompleted) this.lastCompleted = checkpointId;
    if (this.status === "finishing" && this.lastCompleted >= this.finalSnapshot) this.finish();
  }

  onCheckpointAborted(checkpointId: number): void {
    this.barriers.abort(checkpointId);
    this.notifyCheckpointAborted(checkpointId);
    this.wake(this.host.kernel.now());
  }
}

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

  constructor(
    name: string, vertexId: number, subtask: number, host: TaskHost, chain: StreamOperator[], uids: string[], writers: RecordWriter[],
    readonly reader: SourceReader<T>,
    splitCount: number,
    private readonly strategy: WatermarkStrategy<T>,
    private readonly batchSize: number,
    private readonly watermarkInterval: number,
    private readonly pollInterval: number,
  ) {
    super(name, vertexId, subtask, host, chain, uids, writers, undefined);
    this.splitMax = new Array(splitCount).fill(MIN_WATERMARK);
    this.splitDone = new Array(splitCount).fill(false);
  }

  collect(split: number, value: T, timestamp: number): void {
    const a = this.strategy.assigner;
    const ts = a === undefined ? timestamp : a(value, timestamp);
    if (ts > this.splitMax[split]) this.splitMax[split] = ts;
    this.emitted++;
    this.head.processElement(value, ts);
  }

  splitFinished(split: number): void {
    this.splitDone[split] = true;
  }

  protected step(now: number): void {
    if (this.status !== "running") return;
    this.emitted = 0;
    const next = this.reader.pollNext(now, this.batchSize, this);
    if (this.emitted > 0) {
      this.fault("task.process");
      this.processedRecords += this.emitted;
      this.host.trace(`${this.tid} emit n=${this.emitted}`);
    }
    let wmAt = Infinity;
    if (now >= this.lastWatermarkAt + this.watermarkInterval) this.emitWatermark(now);
    else if (this.pendingWatermark()) wmAt = this.lastWatermarkAt + this.watermarkInterval;
    this.flush();
    if (next === END_OF_INPUT) this.endOfInput();
    else {
      // A full batch means more may be waiting now; otherwise sleep at least the poll interval.
      const earliest = this.emitted >= this.batchSize ? now : now + this.pollInterval;
      const at = Math.min(Math.max(next, earliest), wmAt);
      if (at !== Infinity) this.wake(at < now ? now : at);
    }
  }

  private lastWatermarkAt = -Infinity;

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
      this.lastWatermarkAt = now;
      this.head.processWatermark(wm);
    }
  }

  private endOfInput(): void {
    // Flink: a bounded source ends with MAX_WATERMARK whatever the strategy, firing every window.
    this.watermark = MAX_WATERMARK;
    this.head.processWatermark(MAX_WATERMARK);
    this.flushNow();
    this.host.trace(`${this.name} end-of-input`);
    if (this.host.checkpointing) {
      // Wait for the final checkpoint, so the last epoch is committed exactly once (FLIP-147).
      this.status = "finishing";
      this.host.sourceReachedEnd(this);
    } else {
      for (const op of this.chain) op.endInput();
      this.finish();
    }
  }

  /** Coordinator's trigger (an RPC in Flink): snapshot offsets and state, emit the barrier. */
  triggerCheckpoint(checkpointId: number, final: boolean): void {
    if (this.status === "canceled" || this.status === "finished") return;
    try {
      this.fault("checkpoint.source-snapshot", checkpointId);
      this.snapshot(checkpointId, final, 0);
    } catch (e) {
      this.host.failTask(this, e);
    }
  }

  protected override afterCheckpointComplete(_checkpointId: number): void {
    if (this.status === "finishing" && this.finalCheckpointDone) {
      for (const op of this.chain) op.endInput();
      this.finish();
    }
  }

  /** Set by the host when a checkpoint taken after every source reached its end completes. */
  finalCheckpointDone = false;

  snapshotReader(checkpointId: number): unknown[] {
    return this.reader.snapshotState(checkpointId);
  }
}
