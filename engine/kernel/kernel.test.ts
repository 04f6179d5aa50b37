import { describe, expect, it } from "vitest";
import { Kernel } from "./kernel.ts";
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
});
