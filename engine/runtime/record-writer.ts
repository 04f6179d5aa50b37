import type { Rng } from "../kernel/rng.ts";
import type { Channel } from "./channel.ts";
import type { StreamElement } from "./elements.ts";
import { KeyGroupCache, operatorIndexForKeyGroup, type KeyType } from "../state/keygroups.ts";

/** How records of one edge are spread over the downstream subtasks (Flink's partitioners). */
export type Partitioning =
  | { kind: "forward" }
  | { kind: "rebalance" }
  | { kind: "hash"; keySelector: (v: any) => KeyType };

/** Draws the delivery delay of one batch; seeded, so a seed fixes every interleaving. */
export interface LinkModel {
  latency(): number;
}

export function uniformLatency(rng: Rng, min: number, max: number): LinkModel {
  return { latency: () => min + rng.int(max - min + 1) };
}

/**
 * Buffers the records of one output edge per downstream channel and ships them as batches.
 * Non-record elements (watermarks, barriers, end) flush every buffer first, so a channel
 * never lets a watermark or barrier overtake records emitted before it.
 */
export class RecordWriter {
  private readonly vals: unknown[][];
  private readonly tss: number[][];
  private rr: number;
  private readonly kgs: KeyGroupCache;
  private readonly n: number;
  /** The channel of the last key routed: records come in runs of one key (a split is one symbol). */
  private lastKey: KeyType | undefined = undefined;
  private lastChannel = 0;

  constructor(
    readonly channels: Channel[],
    private readonly partitioning: Partitioning,
    private readonly subtask: number,
    private readonly maxParallelism: number,
    private readonly batchSize: number,
    private readonly link: LinkModel,
    private readonly now: () => number,
    rng: Rng,
  ) {
    this.n = channels.length;
    this.vals = channels.map(() => []);
    this.tss = channels.map(() => []);
    this.kgs = new KeyGroupCache(maxParallelism);
    this.rr = rng.int(this.n);
  }

  emit(value: unknown, ts: number): void {
    let c: number;
    const p = this.partitioning;
    if (p.kind === "hash") {
      const key = p.keySelector(value);
      if (key === this.lastKey) c = this.lastChannel;
      else {
        c = this.lastChannel = operatorIndexForKeyGroup(this.kgs.keyGroup(key), this.n, this.maxParallelism);
        this.lastKey = key;
      }
    } else if (p.kind === "forward") c = this.n === 1 ? 0 : this.subtask;
    else c = this.rr = this.rr + 1 === this.n ? 0 : this.rr + 1;
    const vs = this.vals[c];
    vs.push(value);
    this.tss[c].push(ts);
    if (vs.length >= this.batchSize) this.flushChannel(c);
  }

  private flushChannel(c: number): void {
    const values = this.vals[c];
    if (values.length === 0) return;
    const timestamps = this.tss[c];
    this.vals[c] = [];
    this.tss[c] = [];
    this.channels[c].send({ kind: "records", values, timestamps }, this.now() + this.link.latency());
  }

  flush(): void {
    for (let c = 0; c < this.n; c++) this.flushChannel(c);
  }

  /** `delay`: extra virtual ms before it leaves (a slow synchronous checkpoint phase). */
  broadcast(el: StreamElement, delay = 0): void {
    this.flush();
    for (const ch of this.channels) ch.send(el, this.now() + delay + this.link.latency());
  }

  /** Records buffered but not yet sent (a crash loses them; that is what replay is for). */
  buffered(): number {
    let n = 0;
    for (const v of this.vals) n += v.length;
    return n;
  }
}
