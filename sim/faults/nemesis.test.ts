import { describe, expect, it } from "vitest";
import { InjectedCrash } from "../../engine/checkpoint/faults.ts";
import { Nemesis } from "./nemesis.ts";
import { describeFault, parseFault } from "./fault-plan.ts";

describe("nemesis", () => {
  it("fires each fault once, at its occurrence, on matching tasks only", () => {
    const n = new Nemesis([{ kind: "crash", point: "checkpoint.ack", occurrence: 2, task: "#1" }]);
    const site = (task: string) => ({ point: "checkpoint.ack" as const, task, time: 0 });
    n.check(site("Window#0"));
    n.check(site("Window#1"));
    expect(() => n.check(site("Window#1"))).toThrow(InjectedCrash);
    n.check(site("Window#1"));
    expect(n.fired).toHaveLength(1);
    expect(n.unfired()).toEqual([]);
    expect(n.passages.get("checkpoint.ack")).toBe(4);
  });

  it("parses and prints the --fault syntax both ways", () => {
    const f = parseFault("crash@checkpoint.complete#3[#1]");
    expect(f).toEqual({ kind: "crash", point: "checkpoint.complete", occurrence: 3, task: "#1" });
    expect(describeFault(f)).toBe("crash@checkpoint.complete#3[#1]");
    expect(() => parseFault("crash@nowhere#1")).toThrow(/unknown fault point/);
    expect(() => parseFault("boom")).toThrow(/expected crash@/);
  });
});
