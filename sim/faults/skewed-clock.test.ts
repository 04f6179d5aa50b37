import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { Nemesis } from "./nemesis.ts";
import { SkewedClock } from "./skewed-clock.ts";
import type { SkewFault } from "./fault-plan.ts";

const skew = fc.record({
  ms: fc.integer({ min: -500, max: 500 }),
  fromMs: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
  driftPpm: fc.option(fc.integer({ min: -900_000, max: 900_000 }), { nil: undefined }),
}).map((r): SkewFault => ({ kind: "skew", ms: r.ms, ...(r.fromMs !== undefined ? { fromMs: r.fromMs } : {}), ...(r.driftPpm !== undefined ? { driftPpm: r.driftPpm } : {}) }));

describe("a skewed TaskManager clock", () => {
  test("by example: a step back at 100 ms, then 10 % fast", () => {
    const c = new SkewedClock({ kind: "skew", ms: -50, fromMs: 100, driftPpm: 100_000 }, (now) => now, () => {});
    expect(c.local(1_000)).toBe(1_000); // the origin: the first reading
    expect(c.local(1_099)).toBe(1_099);
    expect(c.local(1_100)).toBe(1_050); // stepped back 50 ms
    expect(c.local(1_200)).toBe(1_160); // and gains 10 ms per 100
    // 1_099 is read once before the step (at 1_099) and again after it, first at 1_145 (1_145 - 50 + 4).
    expect(c.kernelAt(1_099, 1_000)).toBe(1_099);
    expect(c.kernelAt(1_099, 1_100)).toBe(1_145);
    expect(c.kernelAt(1_160, 1_100)).toBe(1_200);
  });

  test.prop([skew, fc.integer({ min: 0, max: 500 }), fc.integer({ min: -100, max: 1_500 })], { numRuns: 300 })(
    "kernelAt is the earliest kernel time, from now on, at which the clock reads the target",
    (f, now, target) => {
      const c = new SkewedClock(f, () => 0, () => {});
      const t = c.kernelAt(target, now);
      expect(t).toBeGreaterThanOrEqual(now);
      expect(c.local(t)).toBeGreaterThanOrEqual(target);
      for (let u = now; u < t; u++) expect(c.local(u)).toBeLessThan(target);
    },
  );

  test("the nemesis hands a clock only to the tasks a skew names, and counts it fired once it shows", () => {
    const n = new Nemesis([{ kind: "crash", point: "restore", occurrence: 1 }, { kind: "skew", task: "#1", ms: 5_000, fromMs: 10 }]);
    expect(n.clockOf("Source: Binance#0")).toBeUndefined();
    expect(new Nemesis([]).clockOf("Source#0")).toBeUndefined();
    const c = n.clockOf("Source: Binance#1")!;
    expect(c.local(1_000)).toBe(1_000);
    expect(n.fired).toEqual([]);
    expect(c.local(1_010)).toBe(6_010);
    expect(c.local(1_020)).toBe(6_020);
    expect(n.fired.map((x) => [x.index, x.site.task, x.site.time])).toEqual([[1, "Source: Binance#1", 1_010]]);
    // A standing fault: a process started after a kill runs on the same skewed machine.
    expect(n.unfired().map((f) => f.kind)).toEqual(["crash", "skew"]);
  });
});
