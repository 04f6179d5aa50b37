import type { Rng } from "../kernel/rng.ts";
import { BarrierHandler } from "../checkpoint/barrier-handler.ts";
import type { Channel } from "./channel.ts";
import type { StreamElement } from "./elements.ts";
import { MAX_WATERMARK, MIN_WATERMARK } from "./elements.ts";
import type { StreamOperator } from "./operator.ts";
import type { RecordWriter } from "./record-writer.ts";
import type { KeyedStateBackend } from "../state/keyed-state.ts";
import { Task, type TaskHost } from "./task.ts";

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
