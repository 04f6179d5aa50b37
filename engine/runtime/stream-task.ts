import type { Rng } from "../kernel/rng.ts";
import { CheckpointedInput, type CheckpointedInputOwner, type InFlightBatch } from "../checkpoint/checkpointed-input.ts";
import type { CheckpointOptions } from "../checkpoint/gateway.ts";
import type { SnapshotStrategy } from "../checkpoint/snapshot-strategy.ts";
import type { Channel } from "./channel.ts";
import type { StreamElement } from "./elements.ts";
import { MAX_WATERMARK, MIN_WATERMARK } from "./elements.ts";
import type { StreamOperator } from "./operator.ts";
import type { RecordWriter } from "./record-writer.ts";
import type { KeyedStateBackend } from "../state/keyed-state.ts";
import { Task, type TaskHost } from "./task.ts";
import { TraceEvent } from "../kernel/trace.ts";

/** A task fed by network channels: watermark valve, checkpointed input (barriers), end of partition. */
export class StreamTask extends Task implements CheckpointedInputOwner {
  private readonly channelWm: number[];
  private readonly ended: boolean[];
  private endedCount = 0;
  private watermark = MIN_WATERMARK;
  private readonly input: CheckpointedInput;
  private readonly ready: number[] = [];
  /** In-flight records of the unaligned checkpoint restored from: processed before any new input. */
  private replay?: InFlightBatch[];

  constructor(
    name: string, vertexId: number, vertexName: string, subtask: number, host: TaskHost, chain: StreamOperator[], uids: string[], writers: RecordWriter[],
    keyedBackend: KeyedStateBackend | undefined,
    strategy: SnapshotStrategy,
    readonly inputs: Channel[],
    private readonly rng: Rng,
    private readonly maxElementsPerStep: number,
  ) {
    super(name, vertexId, vertexName, subtask, host, chain, uids, writers, keyedBackend, strategy, false);
    this.channelWm = inputs.map(() => MIN_WATERMARK);
    this.ended = inputs.map(() => false);
    this.input = new CheckpointedInput(inputs, host.alignment, this, host.inputObserver?.(name));
  }

  /** Restore: the channel state of an unaligned checkpoint, replayed at the first step. */
  restoreInFlight(batches: InFlightBatch[]): void {
    if (batches.length === 0) return;
    this.replay = batches;
    this.wake(this.host.kernel.now());
  }

  protected step(now: number): void {
    if (this.replay) {
      const head = this.head;
      for (const b of this.replay) for (let i = 0; i < b.values.length; i++) head.processElement(b.values[i], b.timestamps[i]);
      this.host.trace(`${this.tid} replayed in-flight n=${this.replay.reduce((n, b) => n + b.values.length, 0)}`);
      this.replay = undefined;
    }
    const inputs = this.inputs;
    const input = this.input;
    for (let n = 0; n < this.maxElementsPerStep && this.status === "running"; n++) {
      if (input.pollPriority(now)) continue;
      // Filled by index, not truncated: `length = 0` would free the array's store every pass.
      const ready = this.ready;
      let nr = 0;
      for (let i = 0; i < inputs.length; i++) if (!input.isBlocked(i) && inputs[i].ready(now)) ready[nr++] = i;
      if (nr === 0) break;
      const c = nr === 1 ? ready[0] : ready[this.rng.int(nr)];
      this.handle(c, inputs[c].poll(), now);
      if (now < this.stalledUntil) break;
    }
    if (this.status !== "running") return;
    this.flush();
    let next = input.nextPriorityAt();
    for (let i = 0; i < inputs.length; i++) {
      if (input.isBlocked(i)) continue;
      const at = inputs[i].nextAt();
      if (at < next) next = at;
    }
    if (now < this.stalledUntil) next = Math.max(next, this.stalledUntil);
    if (next !== Infinity) this.wake(next < now ? now : next);
  }

  private handle(c: number, el: StreamElement, now: number): void {
    switch (el.kind) {
      case "records": {
        this.fault("task.process");
        const vs = el.values;
        const ts = el.timestamps;
        const head = this.head;
        this.input.onRecords(c, vs, ts);
        for (let i = 0; i < vs.length; i++) head.processElement(vs[i], ts[i]);
        this.tr.event(now, this.tcode, this.tid, TraceEvent.in, c, vs.length);
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
        this.stall(this.host.slowdown("checkpoint.alignment", this.name, el.checkpointId));
        this.input.onBarrier(c, el.checkpointId, el.options, now);
        return;
      }
      case "end": {
        this.ended[c] = true;
        this.endedCount++;
        this.input.onEndOfPartition(c, now);
        if (this.endedCount === this.inputs.length) {
          if (this.watermark < MAX_WATERMARK) {
            this.watermark = MAX_WATERMARK;
            this.head.processWatermark(MAX_WATERMARK);
          }
          for (const op of this.chain) op.endInput();
          if (this.finishRule.inputEnded()) this.finish();
          else this.status = "finishing";
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
      this.tr.event(this.host.kernel.now(), this.tcode, this.tid, TraceEvent.watermark, min);
      this.head.processWatermark(min);
    }
  }

  // ---- CheckpointedInputOwner: what the alignment decides, done by this task ----

  override snapshot(checkpointId: number, options: CheckpointOptions, alignmentMs: number, unaligned: boolean): void {
    super.snapshot(checkpointId, options, alignmentMs, unaligned);
  }
  inFlight(checkpointId: number, batch: InFlightBatch): void {
    this.checkpointer.inFlight(checkpointId, batch);
  }
  channelStateComplete(checkpointId: number): void {
    this.checkpointer.channelStateComplete(checkpointId);
  }
  abandon(checkpointId: number): void {
    this.checkpointer.abandon(checkpointId);
  }
  timer(at: number, checkpointId: number): void {
    this.host.kernel.at(at, {
      run: (now) => {
        if (this.status !== "running") return;
        try {
          this.input.onTimeout(checkpointId, now);
        } catch (e) {
          this.host.failTask(this, e);
        }
        this.wake(now);
      },
    });
  }

  override notifyCheckpointAborted(checkpointId: number): void {
    if (this.status === "canceled" || this.status === "finished") return;
    this.input.onCancel(checkpointId, this.host.kernel.now());
    super.notifyCheckpointAborted(checkpointId);
    this.wake(this.host.kernel.now());
  }
}
