import { describe, expect, it } from "vitest";
import { COORDINATOR_TRACE_ID, Trace, TraceEvent } from "./trace.ts";

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

  it("checkpoint life-cycle events read as the text lines they replace", () => {
    const t = new Trace(true);
    const C = COORDINATOR_TRACE_ID;
    t.event(1_000, C, "coordinator", TraceEvent.cpTrigger, 7, 0);
    t.event(1_000, C, "coordinator", TraceEvent.cpTrigger, 8, 1);
    t.event(1_000, C, "coordinator", TraceEvent.cpTrigger, 9, 2);
    t.event(1_001, 65_536, "v1.0", TraceEvent.cpSnapshot, 7, 0);
    t.event(1_001, 131_073, "v2.1", TraceEvent.cpSnapshot, 7, 1);
    t.event(1_030, C, "coordinator", TraceEvent.cpDiscard, 6);
    t.event(1_030, C, "coordinator", TraceEvent.cpComplete, 7, 0);
    t.event(1_031, C, "coordinator", TraceEvent.cpComplete, 9, 1);
    expect(t.lines()).toEqual([
      "1000 coordinator trigger cp=7\n",
      "1000 coordinator trigger cp=8 final\n",
      "1000 coordinator trigger cp=9 savepoint\n",
      "1001 v1.0 snapshot cp=7\n",
      "1001 v2.1 snapshot cp=7 unaligned\n",
      "1030 coordinator discard cp=6\n",
      "1030 coordinator complete cp=7\n",
      "1031 coordinator complete savepoint=9\n",
    ]);
    // Kind and numbers are hashed: a final trigger is not a periodic one, a snapshot of 7 not one of 8.
    const h = (kind: (typeof TraceEvent)[keyof typeof TraceEvent], a: number, b: number) => {
      const x = new Trace();
      x.event(1_000, C, "coordinator", kind, a, b);
      return x.hash();
    };
    expect(new Set([h(TraceEvent.cpTrigger, 7, 0), h(TraceEvent.cpTrigger, 7, 1), h(TraceEvent.cpTrigger, 8, 0), h(TraceEvent.cpComplete, 7, 0), h(TraceEvent.cpDiscard, 7, 0)]).size).toBe(5);
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
