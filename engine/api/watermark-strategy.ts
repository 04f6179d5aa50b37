import type { Millis } from "./time.ts";

export type TimestampAssigner<T> = (element: T, recordTimestamp: number) => number;

/**
 * Flink's WatermarkStrategy. Watermarks are generated per source split and combined by minimum;
 * bounded out-of-orderness d emits maxTimestamp - d - 1, as Flink's BoundedOutOfOrdernessWatermarks.
 */
export class WatermarkStrategy<T> {
  private constructor(
    readonly kind: "none" | "bounded",
    readonly outOfOrderness: Millis,
    readonly assigner: TimestampAssigner<T> | undefined,
    readonly idleness: Millis | undefined,
  ) {}

  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>("none", 0, undefined, undefined);
  }
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>("bounded", 0, undefined, undefined);
  }
  static forBoundedOutOfOrderness<T>(maxOutOfOrderness: Millis): WatermarkStrategy<T> {
    if (!(maxOutOfOrderness >= 0)) throw new RangeError(`WatermarkStrategy.forBoundedOutOfOrderness: ${maxOutOfOrderness} must be >= 0`);
    return new WatermarkStrategy<T>("bounded", maxOutOfOrderness, undefined, undefined);
  }
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.kind, this.outOfOrderness, assigner, this.idleness);
  }
  /** A split silent for this long stops holding back the watermark. */
  withIdleness(d: Millis): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(this.kind, this.outOfOrderness, this.assigner, d);
  }
  describe(): string {
    return this.kind === "none" ? "noWatermarks()" : this.outOfOrderness === 0 ? "forMonotonousTimestamps()" : `forBoundedOutOfOrderness(${this.outOfOrderness}ms)`;
  }
}
