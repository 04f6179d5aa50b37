import { describe, expect, it } from "vitest";
import { Trace, TraceEvent } from "./trace.ts";

/** A small run's worth of entries: text lines and numeric per-batch events interleaved. */
function record(t: Trace, over: { n?: number; wm?: number; swap?: boolean } = {}): Trace {
  t.line(1_000, "coordinator trigger cp=1");
  t.event(1_000, 65_536, "v1.0", TraceEvent.emit, over.n ?? 29);
  if (over.swap) t.line(1_002, "sink pre-commit cp=1");
  t.event(1_002, 131_072, "v2.0", TraceEvent.in, 0, 29);
  if (!over.swap) t.line(1_002, "sink pre-commit cp=1");
  t.event(1_003, 131_072, "v2.0", TraceEvent.watermark, over.wm ?? 1_723_161_255_011);
  t.event(1_004, 131_072, "v2.0", TraceEvent.watermark, Infinity);
  return t;
}

describe("trace events", () => {
  it("kept lines read exactly as text lines would, and count as lines", () => {
    const t = record(new Trace(true));
    expect(t.lines()).toEqual([
      "1000 coordinator trigger cp=1\n",
      "1000 v1.0 emit n=29\n",
      "1002 v2.0 in=0 n=29\n",
      "1002 sink pre-commit cp=1\n",
      "1003 v2.0 wm=1723161255011\n",
      "1004 v2.0 wm=Infinity\n",
    ]);
    expect(t.length).toBe(6);
  });

  it("the hash is a function of the events, their numbers and their order, kept or not", () => {
    const h = record(new Trace()).hash();
    expect(record(new Trace(true)).hash()).toBe(h);
    expect(record(new Trace(), { n: 30 }).hash()).not.toBe(h);
    expect(record(new Trace(), { wm: 1_723_161_255_012 }).hash()).not.toBe(h); // beyond 32 bits
    expect(record(new Trace(), { wm: 1_723_161_255_011 + 2 ** 32 }).hash()).not.toBe(h); // high word
    expect(record(new Trace(), { swap: true }).hash()).not.toBe(h); // text and events interleave differently
    const extra = record(new Trace());
    extra.event(1_005, 131_072, "v2.0", TraceEvent.in, 0, 1);
    expect(extra.hash()).not.toBe(h);
  });
});
