import type { Millis } from "./time.ts";

export type WindowAssigner = { readonly kind: "tumbling-event-time"; readonly size: Millis; readonly offset: Millis };

/** Flink's TumblingEventTimeWindows: [start, start + size) with start ≡ offset (mod size). */
export const TumblingEventTimeWindows = {
  of(size: Millis, offset: Millis = 0): WindowAssigner {
    if (!(size > 0) || !Number.isInteger(size)) throw new RangeError(`TumblingEventTimeWindows.of: size must be a positive whole number of ms, got ${size}`);
    if (Math.abs(offset) >= size) throw new RangeError(`TumblingEventTimeWindows.of: |offset| (${offset}) must be smaller than size (${size})`);
    return { kind: "tumbling-event-time", size, offset };
  },
} as const;

/** Flink's OutputTag: names a side output. */
export class OutputTag<T> {
  declare readonly _type?: T;
  constructor(readonly id: string) {
    if (!id) throw new Error("OutputTag: id must not be empty");
  }
}
