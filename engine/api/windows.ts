import type { Millis } from "./time.ts";

/**
 * The window assigners the engine runs, as plain data (a closed union): validation refuses any
 * other `kind`, so an assigner is never run as something it is not.
 */
export type WindowAssigner =
  | { readonly kind: "tumbling-event-time"; readonly size: Millis; readonly offset: Millis }
  | { readonly kind: "sliding-event-time"; readonly size: Millis; readonly slide: Millis; readonly offset: Millis }
  | { readonly kind: "event-time-session"; readonly gap: Millis };

export const WINDOW_ASSIGNER_KINDS = ["tumbling-event-time", "sliding-event-time", "event-time-session"] as const;

/** A window [start, end): Flink's TimeWindow. maxTimestamp() = end - 1 is when it fires. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

export class WindowAssignerError extends RangeError {
  override readonly name = "WindowAssignerError";
  readonly exitCode = 2;
}

function positive(who: string, what: string, v: Millis): void {
  if (!(v > 0) || !Number.isInteger(v)) throw new WindowAssignerError(`${who}: ${what} must be a positive whole number of ms, got ${v}`);
}

/** Flink's TumblingEventTimeWindows: [start, start + size) with start ≡ offset (mod size). */
export const TumblingEventTimeWindows = {
  of(size: Millis, offset: Millis = 0): WindowAssigner {
    positive("TumblingEventTimeWindows.of", "size", size);
    if (!Number.isInteger(offset) || Math.abs(offset) >= size) throw new WindowAssignerError(`TumblingEventTimeWindows.of: |offset| (${offset}) must be a whole number smaller than size (${size})`);
    return { kind: "tumbling-event-time", size, offset };
  },
} as const;

/** Flink's SlidingEventTimeWindows: each record belongs to size/slide windows [start, start + size), start ≡ offset (mod slide). */
export const SlidingEventTimeWindows = {
  of(size: Millis, slide: Millis, offset: Millis = 0): WindowAssigner {
    positive("SlidingEventTimeWindows.of", "size", size);
    positive("SlidingEventTimeWindows.of", "slide", slide);
    if (!Number.isInteger(offset) || Math.abs(offset) >= slide) throw new WindowAssignerError(`SlidingEventTimeWindows.of: |offset| (${offset}) must be a whole number smaller than slide (${slide})`);
    return { kind: "sliding-event-time", size, slide, offset };
  },
} as const;

/** Flink's EventTimeSessionWindows: a record opens [ts, ts + gap); windows that overlap or touch merge. */
export const EventTimeSessionWindows = {
  withGap(gap: Millis): WindowAssigner {
    positive("EventTimeSessionWindows.withGap", "gap", gap);
    return { kind: "event-time-session", gap };
  },
} as const;

/** Flink's TimeWindow.getWindowStartWithOffset, for negative timestamps too. */
export function windowStart(ts: number, offset: number, size: number): number {
  return ts - ((((ts - offset) % size) + size) % size);
}

/** Flink's toString of the assigner, for operator names. */
export function describeAssigner(a: WindowAssigner): string {
  switch (a.kind) {
    case "tumbling-event-time":
      return `TumblingEventTimeWindows(${a.size}${a.offset ? `, ${a.offset}` : ""})`;
    case "sliding-event-time":
      return `SlidingEventTimeWindows(${a.size}, ${a.slide}${a.offset ? `, ${a.offset}` : ""})`;
    case "event-time-session":
      return `EventTimeSessionWindows(${a.gap})`;
    default:
      return `unsupported assigner ${JSON.stringify((a as { kind?: unknown }).kind)}`;
  }
}

/** Why the engine cannot run `a` (an assigner built by hand or read from a spec), or undefined when it can. */
export function unsupportedAssigner(a: unknown): string | undefined {
  const kind = (a as { kind?: unknown } | null)?.kind;
  if (!(WINDOW_ASSIGNER_KINDS as readonly unknown[]).includes(kind)) {
    return `window assigner ${JSON.stringify(kind)} is not supported; the engine runs ${WINDOW_ASSIGNER_KINDS.join(", ")}`;
  }
  try {
    assignerFromSpec(a as Record<string, unknown>);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/**
 * An assigner from plain data (a scenario file: `{kind, size, slide?, offset?, gap?}`).
 * An unknown kind or a missing field is an error naming it, never a fallback to tumbling.
 */
export function assignerFromSpec(spec: Record<string, unknown>, where = "window"): WindowAssigner {
  const num = (f: string, dflt?: number): number => {
    const v = spec[f] ?? dflt;
    if (typeof v !== "number") throw new WindowAssignerError(`${where}.${f}: expected a number of ms, got ${JSON.stringify(spec[f])}`);
    return v;
  };
  switch (spec.kind) {
    case "tumbling-event-time":
      return TumblingEventTimeWindows.of(num("size"), num("offset", 0));
    case "sliding-event-time":
      return SlidingEventTimeWindows.of(num("size"), num("slide"), num("offset", 0));
    case "event-time-session":
      return EventTimeSessionWindows.withGap(num("gap"));
    default:
      throw new WindowAssignerError(`${where}.kind: window assigner ${JSON.stringify(spec.kind)} is not supported; the engine runs ${WINDOW_ASSIGNER_KINDS.join(", ")}`);
  }
}

/** Flink's OutputTag: names a side output. */
export class OutputTag<T> {
  declare readonly _type?: T;
  constructor(readonly id: string) {
    if (!id) throw new Error("OutputTag: id must not be empty");
  }
}
