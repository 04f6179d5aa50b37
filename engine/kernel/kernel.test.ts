import { describe, expect, it } from "vitest";
import { IdleTimeError, Kernel } from "./kernel.ts";
import { Trace } from "./trace.ts";

function order(seed: string, start = 0): string[] {
  const k = new Kernel(seed, start);
  const seen: string[] = [];
  for (const name of ["a", "b", "c", "d", "e"]) k.at(name === "e" ? 15 : 10, { run: (t) => void seen.push(`${name}@${t}`) });
  k.run();
  return seen;
}

describe("kernel", () => {
  it("orders by time, never runs in the past, and the seed decides ties", () => {
    const o = order("1");
    expect(o[4]).toBe("e@15");
    expect(o.slice(0, 4).sort()).toEqual(["a@10", "b@10", "c@10", "d@10"]);
    expect(order("1", 100).every((x) => x.endsWith("@100"))).toBe(true); // never in the past
    expect(order("1")).toEqual(o);
    const differs = ["2", "3", "4", "5", "6", "7"].some((s) => order(s).join() !== o.join());
    expect(differs).toBe(true);
  });

  it("recycles run events: everything scheduled from inside a run (reusing its object) runs once, at its time", () => {
    const k = new Kernel("r", 0);
    const runs = new Map<number, number[]>();
    let next = 1;
    const spawn = (id: number, at: number) =>
      k.at(at, {
        run: (t) => {
          runs.set(id, [...(runs.get(id) ?? []), t]);
          // Two children per event, one now (same instant) and one later, until 200 exist.
          if (next < 200) spawn(next++, t);
          if (next < 200) spawn(next++, t + (id % 3));
        },
      });
    spawn(0, 0);
    k.run();
    expect(runs.size).toBe(200);
    expect([...runs.values()].every((ts) => ts.length === 1)).toBe(true);
    expect(k.pending()).toBe(0);
  });

  it("advances virtual time event by event and stops when asked", () => {
    const k = new Kernel("x", 0);
    const times: number[] = [];
    const tick = { run: (t: number) => { times.push(t); if (t < 50) k.after(10, tick); else k.stop(); } };
    k.at(0, tick);
    k.run();
    expect(times).toEqual([0, 10, 20, 30, 40, 50]);
    expect(k.now()).toBe(50);
  });

  it("hashes the same lines to the same digest however they are chunked", () => {
    const a = new Trace();
    const b = new Trace(true);
    for (let i = 0; i < 5000; i++) a.line(i, `event ${i} ${"x".repeat(i % 50)}`);
    for (let i = 0; i < 5000; i++) b.line(i, `event ${i} ${"x".repeat(i % 50)}`);
    expect(a.hash()).toBe(b.hash());
    expect(b.lines()).toHaveLength(5000);
    const c = new Trace();
    c.line(0, "other");
    expect(c.hash()).not.toBe(a.hash());
  });

  it("an armed kernel refuses to idle without limit, names the times, and input resets the budget", () => {
    // A periodic timer (like checkpoint triggering) and one input far ahead: the walk must end.
    const k = new Kernel("1", 1_000);
    k.limitIdle(100);
    let ticks = 0;
    const tick = { run: () => { ticks++; k.after(60_000, tick); } };
    k.after(60_000, tick);
    k.at(9_999_999_999_999, { run: () => {} });
    const e = (() => { try { k.run(); } catch (x) { return x; } })() as IdleTimeError;
    expect(e).toBeInstanceOf(IdleTimeError);
    expect(e).toMatchObject({ events: 100, lastInputTime: 1_000, nextEventTime: 9_999_999_999_999, exitCode: 2 });
    expect(ticks).toBe(100);
    expect(e.message).toMatch(/no input for 100 events: virtual time idled from 1970-01-01T00:00:01.000Z .* work is still scheduled at 2286-11-20T17:46:39.999Z/);

    // Input every 50 events keeps the same job going to its end.
    const k2 = new Kernel("1");
    k2.limitIdle(100);
    let n = 0;
    const src = { run: () => { if (++n % 50 === 0) k2.noteInput(); if (n < 1_000) k2.after(1, src); } };
    k2.after(1, src);
    k2.run();
    expect(n).toBe(1_000);

    // Unarmed (API jobs on collections): no limit.
    const k3 = new Kernel("1");
    let m = 0;
    const t3 = { run: () => { if (++m < 1_000) k3.after(1, t3); } };
    k3.after(1, t3);
    k3.run();
    expect(m).toBe(1_000);
  });
});
