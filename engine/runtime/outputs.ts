import type { Output, StreamOperator } from "./operator.ts";
import type { RecordWriter } from "./record-writer.ts";

/** Hands records straight to the next operator of the chain (Flink's ChainingOutput). */
export class ChainingOutput<T> implements Output<T> {
  constructor(private readonly next: StreamOperator<T, any>, private readonly sides: ReadonlyMap<string, RecordWriter[]>) {}
  collect(value: T, ts: number): void {
    this.next.processElement(value, ts);
  }
  collectSide(tag: string, value: unknown, ts: number): void {
    const ws = this.sides.get(tag);
    if (ws) for (const w of ws) w.emit(value, ts);
  }
  emitWatermark(wm: number): void {
    for (const ws of this.sides.values()) for (const w of ws) w.broadcast({ kind: "watermark", timestamp: wm });
    this.next.processWatermark(wm);
  }
}

/** Sends records to the network edges of the chain's tail (Flink's RecordWriterOutput). */
export class NetworkOutput<T> implements Output<T> {
  constructor(private readonly writers: RecordWriter[], private readonly sides: ReadonlyMap<string, RecordWriter[]>) {}
  collect(value: T, ts: number): void {
    const ws = this.writers;
    for (let i = 0; i < ws.length; i++) ws[i].emit(value, ts);
  }
  collectSide(tag: string, value: unknown, ts: number): void {
    const ws = this.sides.get(tag);
    if (ws) for (const w of ws) w.emit(value, ts);
  }
  emitWatermark(wm: number): void {
    const el = { kind: "watermark", timestamp: wm } as const;
    for (const w of this.writers) w.broadcast(el);
    for (const ws of this.sides.values()) for (const w of ws) w.broadcast(el);
  }
}
