import { describe, expect, it } from "vitest";
import { TimerService } from "./timers.ts";

describe("heap timer service snapshot", () => {
  it("reuses its last snapshot only while no timer was added or fired", () => {
    const t = new TimerService();
    t.register("b", 7, 60_000, 59_999);
    t.register("a", 3, 60_000, 59_999);
    const s1 = t.snapshot();
    expect(s1).toEqual([{ keyGroup: 3, timers: [[59_999, "a", 60_000]] }, { keyGroup: 7, timers: [[59_999, "b", 60_000]] }]);
    expect(t.snapshot()).toBe(s1);
    t.register("a", 3, 60_000, 59_999); // already there: nothing changes
    expect(t.snapshot()).toBe(s1);
    t.register("a", 3, 120_000, 119_999);
    const s2 = t.snapshot();
    expect(s2).toEqual([{ keyGroup: 3, timers: [[59_999, "a", 60_000], [119_999, "a", 120_000]] }, { keyGroup: 7, timers: [[59_999, "b", 60_000]] }]);
    const fired: string[] = [];
    t.advance(59_999, (x) => fired.push(String(x.key)));
    expect(fired).toEqual(["a", "b"]);
    expect(t.snapshot()).toEqual([{ keyGroup: 3, timers: [[119_999, "a", 120_000]] }]);
    // The earlier snapshots are what they were.
    expect(s1.length).toBe(2);
    expect(s2[0].timers.length).toBe(2);
    t.advance(200_000, () => {});
    expect(t.snapshot()).toEqual([]);
  });
});
