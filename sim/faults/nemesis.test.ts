import { describe, expect, it } from "vitest";
import { InjectedCrash, ProcessKilled } from "../../engine/checkpoint/faults.ts";
import { Rng } from "../../engine/kernel/rng.ts";
import { Nemesis, targetKey } from "./nemesis.ts";
import { describeFault, describePlan, FaultSyntaxError, parseFault, parsePlan, SAVEPOINT_MOMENT, validatePlan } from "./fault-plan.ts";
import { SimFs } from "./sim-fs.ts";

const site = (point: "checkpoint.ack" | "restore" | "checkpoint.async-write", task = "Window#0") => ({ point, task, time: 0 });
const bytes = (s: string) => new TextEncoder().encode(s);

describe("nemesis", () => {
  it("fires each fault once, at its occurrence, on matching tasks only", () => {
    const n = new Nemesis([{ kind: "crash", point: "checkpoint.ack", occurrence: 2, task: "#1" }]);
    n.check(site("checkpoint.ack", "Window#0"));
    n.check(site("checkpoint.ack", "Window#1"));
    expect(() => n.check(site("checkpoint.ack", "Window#1"))).toThrow(InjectedCrash);
    n.check(site("checkpoint.ack", "Window#1"));
    expect(n.fired).toHaveLength(1);
    expect(n.unfired()).toEqual([]);
    expect(n.passages.get("checkpoint.ack")).toBe(4);
  });

  it("countTargets counts, per point, the passages each target matches, zero included once the point is passed", () => {
    const n = new Nemesis([]);
    n.countTargets(["#1", "Source"]);
    n.check(site("checkpoint.ack", "Window#0"));
    n.check(site("checkpoint.ack", "Window#1"));
    n.check(site("checkpoint.ack", "Source#1"));
    expect([...n.passages]).toEqual([["checkpoint.ack", 3], [targetKey("checkpoint.ack", "#1"), 2], [targetKey("checkpoint.ack", "Source"), 1]]);
    // Without countTargets only the point is counted.
    const plain = new Nemesis([]);
    plain.check(site("checkpoint.ack", "Window#1"));
    expect([...plain.passages]).toEqual([["checkpoint.ack", 1]]);
  });

  it("a crash with /from=T counts only passages at or after virtual time T, and round-trips", () => {
    const f = parseFault("crash@task.process#2[Source]/from=1000");
    expect(f).toEqual({ kind: "crash", point: "task.process", occurrence: 2, task: "Source", from: 1000 });
    expect(describeFault(f)).toBe("crash@task.process#2[Source]/from=1000");
    expect(validatePlan([f], "plan")).toEqual([f]);
    const n = new Nemesis([f]);
    const at = (time: number, task = "Source#0") => n.check({ point: "task.process", task, time });
    at(10), at(999), at(1000, "Window#0"), at(1000); // before T, another task, then the first that counts
    expect(() => at(1500)).toThrow(InjectedCrash);
    at(2000);
    expect(n.fired.map((x) => x.site.time)).toEqual([1500]);
    expect(() => parseFault("slow@task.process#1+5ms/from=10")).toThrow(FaultSyntaxError);
  });

  it("a crash with /from=savepoint counts from the run's savepoint, or from the start when the run takes none, and round-trips", () => {
    const f = parseFault("kill@checkpoint.ack#1[Window]/from=savepoint");
    expect(f).toEqual({ kind: "kill", point: "checkpoint.ack", occurrence: 1, task: "Window", from: SAVEPOINT_MOMENT });
    expect(describeFault(f)).toBe("kill@checkpoint.ack#1[Window]/from=savepoint");
    const at = (n: Nemesis, time: number) => n.check({ point: "checkpoint.ack", task: "Window#0", time });
    const withSavepoint = new Nemesis([f], undefined, 5_000);
    at(withSavepoint, 4_999);
    expect(() => at(withSavepoint, 5_000)).toThrow(ProcessKilled);
    const without = new Nemesis([f]);
    expect(() => at(without, 10)).toThrow(ProcessKilled);
    expect(() => parseFault("crash@task.process#1/from=stop")).toThrow(FaultSyntaxError);
  });

  it("names the fault that fired when two kills share a point (the kill callback gets its index)", () => {
    const seen: number[] = [];
    const n = new Nemesis([{ kind: "kill", point: "checkpoint.ack", occurrence: 3 }, { kind: "kill", point: "checkpoint.ack", occurrence: 1, task: "#1" }], (_s, i) => seen.push(i));
    n.check(site("checkpoint.ack", "Window#0"));
    expect(() => n.check(site("checkpoint.ack", "Window#1"))).toThrow(ProcessKilled);
    expect(seen).toEqual([1]);
    expect(n.unfired()).toEqual([{ kind: "kill", point: "checkpoint.ack", occurrence: 3 }]);
  });

  it("a slow fault adds its milliseconds once, at its occurrence", () => {
    const n = new Nemesis([{ kind: "slow", point: "checkpoint.async-write", occurrence: 2, ms: 70_000 }]);
    expect(n.slowdown(site("checkpoint.async-write"))).toBe(0);
    expect(n.slowdown(site("checkpoint.async-write"))).toBe(70_000);
    expect(n.slowdown(site("checkpoint.async-write"))).toBe(0);
    expect(n.fired.map((f) => describeFault(f.fault))).toEqual(["slow@checkpoint.async-write#2+70000ms"]);
  });

  it("a slow spell slows `times` consecutive matching passages, counts as fired once, and a kill mid-spell leaves the rest to the next process", () => {
    const n = new Nemesis([parseFault("slow@checkpoint.async-write#2[#1]+9000ms*3")]);
    const slow = (task: string) => n.slowdown(site("checkpoint.async-write", task));
    expect([slow("Sink#1"), slow("Sink#0"), slow("Sink#1"), slow("Sink#1")]).toEqual([0, 0, 9000, 9000]);
    expect(n.unfired()).toEqual([{ kind: "slow", point: "checkpoint.async-write", occurrence: 1, task: "#1", ms: 9000, times: 1 }]);
    expect([slow("Sink#1"), slow("Sink#1")]).toEqual([9000, 0]);
    expect(n.fired).toHaveLength(1);
    expect(n.unfired()).toEqual([]);
  });

  it("a lost message: the occurrence-th matching one and the `times - 1` after it are lost, other tasks' are not; fired once", () => {
    const n = new Nemesis([parseFault("lose@checkpoint.notify#2[Sink#1]*2")]);
    const lost = (task: string) => n.lose({ point: "checkpoint.notify", task, time: 0 });
    expect([lost("Sink#1"), lost("Sink#0"), lost("Sink#1"), lost("Sink#1"), lost("Sink#1")]).toEqual([false, false, true, true, false]);
    expect(n.lose({ point: "checkpoint.ack", task: "Sink#1", time: 0 })).toBe(false);
    expect(n.fired.map((f) => describeFault(f.fault))).toEqual(["lose@checkpoint.notify#2[Sink#1]*2"]);
  });

  it("a slow spell with `then` fails the task of its last slow step at that task's next fault point, once", () => {
    const killed: number[] = [];
    const n = new Nemesis([parseFault("slow@checkpoint.async-write#1+5000ms*2>kill")], (_s, i) => killed.push(i));
    n.slowdown(site("checkpoint.async-write", "Window#0"));
    n.check(site("checkpoint.ack", "Window#1"));
    expect(n.slowdown(site("checkpoint.async-write", "Window#1"))).toBe(5000);
    n.check(site("checkpoint.ack", "Window#0"));
    expect(() => n.check(site("checkpoint.ack", "Window#1"))).toThrow(ProcessKilled);
    expect(killed).toEqual([0]);
    n.check(site("checkpoint.ack", "Window#1"));
    const c = new Nemesis([parseFault("slow@checkpoint.sync-snapshot#1+1ms>crash")]);
    c.slowdown(site("checkpoint.async-write", "W#0"));
    expect(c.slowdown({ point: "checkpoint.sync-snapshot", task: "W#0", time: 0 })).toBe(1);
    expect(() => c.check(site("restore", "W#0"))).toThrow(InjectedCrash);
  });

  it("arms the disk and hands the feed its toxics; heals a full disk at the first restore", () => {
    const fs = new SimFs(new Rng("n"));
    fs.mkdirp("/d");
    const n = new Nemesis(parsePlan("disk:enospc@/d/+3, toxic:drop/probability=0.25"));
    expect(n.armDisk(fs)).toHaveLength(1);
    expect(n.feedPlan()).toEqual({ toxics: [{ kind: "drop", probability: 0.25 }] });
    expect(() => fs.writeFile("/d/a", bytes("hello"))).toThrow(/ENOSPC/);
    n.check(site("restore"));
    fs.writeFile("/d/a", bytes("hello"));
    expect(new TextDecoder().decode(fs.readFile("/d/a"))).toBe("hello");
  });

  it("an intermittent disk fault outlives the heal at a trigger until it has failed its calls; it is reported fired once", () => {
    const fs = new SimFs(new Rng("n"));
    fs.mkdirp("/c");
    const n = new Nemesis(parsePlan("disk:eio-write@/c/#1*2/2"));
    n.armDisk(fs);
    const trigger = { point: "checkpoint.trigger" as const, task: "coordinator", time: 0 };
    expect(() => fs.writeFile("/c/1", bytes("x"))).toThrow(/EIO/);
    n.check(trigger);
    fs.writeFile("/c/2", bytes("x"));
    expect(() => fs.writeFile("/c/3", bytes("x"))).toThrow(/EIO/);
    n.check(trigger);
    fs.writeFile("/c/4", bytes("x"));
    fs.writeFile("/c/5", bytes("x"));
    expect(n.fired.map((f) => describeFault(f.fault))).toEqual(["disk:eio-write@/c/#1*2/2"]);
  });

  it("reports a disk fault as fired, once, at the first fault point after it failed an I/O call; a later process does not report it again", () => {
    const fs = new SimFs(new Rng("n"));
    fs.mkdirp("/d");
    const plan = parsePlan("disk:eio-fsync@/d/, disk:enospc@/e/+3");
    const n = new Nemesis(plan);
    n.armDisk(fs);
    fs.writeFile("/d/a", bytes("x"));
    n.check(site("checkpoint.ack"));
    expect(n.fired).toEqual([]);
    expect(() => fs.fsync("/d/a")).toThrow(/EIO/);
    expect(() => fs.fsync("/d/a")).toThrow(/EIO/);
    n.check({ point: "checkpoint.ack", task: "Window#0", time: 7 });
    n.check(site("checkpoint.ack"));
    expect(n.fired.map((f) => [describeFault(f.fault), f.index, f.site.task, f.site.time])).toEqual([[describeFault(plan[0]), 0, "disk", 7]]);
    const next = new Nemesis(n.unfired());
    next.attachDisk(fs);
    next.check(site("checkpoint.ack"));
    expect(next.fired).toEqual([]);
  });

  it("a disk fault with `then` kills (or crashes) whoever passes the first fault point at least afterMs after the failed call, once; a later process keeps the fault, not the death", () => {
    const fs = new SimFs(new Rng("n"));
    fs.mkdirp("/c/chk-5");
    const plan = parsePlan("disk:eio-write@_metadata#1>kill+500ms, disk:enospc@/e/>crash");
    expect(describePlan(plan)).toBe("disk:eio-write@_metadata#1>kill+500ms, disk:enospc@/e/>crash");
    const killed: number[] = [];
    const n = new Nemesis(plan, (_s, i) => killed.push(i));
    n.armDisk(fs);
    const at = (time: number, task = "Window#0") => n.check({ point: "checkpoint.ack", task, time });
    at(100); // nothing failed yet: nobody dies
    expect(() => fs.writeFile("/c/chk-5/_metadata", bytes("m"))).toThrow(/EIO/);
    at(1000); // the failure shows here (fired at 1000), the death is due at 1500
    at(1499, "Source#0");
    expect(() => at(1500, "Source#0")).toThrow(ProcessKilled);
    expect(killed).toEqual([0]);
    at(1600);
    expect(n.fired.map((f) => [f.index, f.site.time])).toEqual([[0, 1000]]);
    expect(describePlan(n.unfired())).toBe("disk:eio-write@_metadata#1, disk:enospc@/e/>crash");
    // No delay: the first fault point after the failure, in the same check that reports it.
    fs.mkdirp("/e");
    expect(() => fs.writeFile("/e/x", bytes("too big"))).toThrow(/ENOSPC/);
    expect(() => at(2000, "Window#1")).toThrow(InjectedCrash);
    at(2001);
  });

  it("kill@fs.write#n[path] kills the process just before the n-th disk-changing call on a matching path (the rename, here); the call does not happen", () => {
    const fs = new SimFs(new Rng("n"));
    const n = new Nemesis(parsePlan("kill@fs.write#3[_metadata]"));
    const seen: string[] = [];
    fs.onChange = (p) => {
      seen.push(p);
      n.check({ point: "fs.write", task: p, time: 5 });
    };
    fs.mkdirp("/c/chk-1");
    fs.writeFile("/c/chk-1/_metadata.tmp", bytes("m"));
    fs.fsync("/c/chk-1/_metadata.tmp");
    expect(() => fs.rename("/c/chk-1/_metadata.tmp", "/c/chk-1/_metadata")).toThrow(ProcessKilled);
    expect(fs.exists("/c/chk-1/_metadata")).toBe(false);
    expect(seen).toEqual(["/c/chk-1", "/c/chk-1/_metadata.tmp", "/c/chk-1/_metadata.tmp", "/c/chk-1/_metadata"]);
    expect(n.passages.get("fs.write")).toBe(4);
    expect(n.fired.map((f) => [describeFault(f.fault), f.site.task])).toEqual([["kill@fs.write#3[_metadata]", "/c/chk-1/_metadata"]]);
    // Reads are not counted; nor is anything once the hook is gone (the harness's own reads and writes).
    fs.readFile("/c/chk-1/_metadata.tmp");
    fs.onChange = undefined;
    fs.unlink("/c/chk-1/_metadata.tmp");
    expect(n.passages.get("fs.write")).toBe(4);
  });

  it("flips a bit of the stored bytes of the first matching file just before a restore", () => {
    const fs = new SimFs(new Rng("n"));
    fs.mkdirp("/c/chk-2");
    fs.writeFile("/c/chk-2/_metadata", bytes("A"));
    fs.fsync("/c/chk-2/_metadata");
    const n = new Nemesis(parsePlan("disk:bitflip@chk-2/_metadata+0.1"));
    n.armDisk(fs);
    expect(fs.readFile("/c/chk-2/_metadata")[0]).toBe(0x41);
    n.check(site("restore"));
    expect(fs.readFile("/c/chk-2/_metadata")[0]).toBe(0x43);
    expect(n.fired).toHaveLength(1);
  });

  it("a forced torn write tears the matching file at the next power loss; a forced loss drops it", () => {
    for (const [kind, expected] of [["torn", (n: number) => n > 0 && n < 10], ["lost", (n: number) => n === 0]] as const) {
      const fs = new SimFs(new Rng("t"), { tearProbability: kind === "torn" ? 0 : 1 });
      fs.mkdirp("/x");
      fs.fsyncDir("/");
      fs.writeFile("/x/f", bytes("0123456789"));
      fs.fsyncDir("/x");
      new Nemesis(parsePlan(`disk:${kind}@/x/f`)).armDisk(fs);
      fs.crash();
      expect(expected(fs.readFile("/x/f").length), kind).toBe(true);
    }
  });
});

describe("the fault plan syntax", () => {
  it("parses and prints every kind both ways", () => {
    const plan = "crash@checkpoint.ack#3[Window#1], kill@sink.commit#2, slow@checkpoint.alignment#1[Source]+5000ms, slow@checkpoint.async-write#4+30000ms*6, slow@checkpoint.sync-snapshot#2[#0]+700ms*3>kill, disk:torn@chk-2/_metadata, disk:eio-fsync@_pending#4, disk:eio-write@chk-#3*2, disk:eio-read#1*4/10>crash, disk:enospc+1000, disk:lost, disk:lying-fsync@out/, lose@checkpoint.trigger#2[Source#1], lose@checkpoint.ack#3*2, toxic:reorder/probability=0.1/window=3";
    expect(describePlan(parsePlan(plan))).toBe(plan);
    expect(parseFault("crash@checkpoint.complete#3[#1]")).toEqual({ kind: "crash", point: "checkpoint.complete", occurrence: 3, task: "#1" });
    expect(parsePlan("no faults")).toEqual([]);
  });

  it("refuses unknown points, kinds and toxics by name, as user errors (exit 2)", () => {
    const cases: [string, RegExp][] = [
      ["crash@nowhere#1", /unknown fault point "nowhere"/],
      ["explode@checkpoint.ack#1", /unknown fault kind "explode"/],
      ["toxic:gremlins/probability=1", /unknown toxic kind "gremlins"/],
      ["toxic:drop", /needs \/probability/],
      ["slow@checkpoint.ack#1", /needs it/],
      ["slow@checkpoint.ack#1+5ms*0", /\*<times> must be >= 1/],
      ["crash@checkpoint.ack#1*2", /cannot parse fault/],
      ["boom", /cannot parse fault "boom"/],
      ["lose@checkpoint.complete#1", /a message can be lost only at checkpoint.trigger, checkpoint.ack, checkpoint.notify/],
      ["lose@checkpoint.ack#1*0", /\*<times> must be >= 1/],
      ["disk:torn@chk-2/_metadata>crash", /only disk:enospc and disk:eio-<op> fail a call/],
      ["disk:eio-write@chk-*2", /only disk:eio-<op>#<n> takes/],
      ["disk:eio-write#1*0", /takes \*<times>\[\/<every>\], both >= 1/],
      ["disk:eio-write#1*2/0", /both >= 1/],
      ["disk:enospc#1*2", /only disk:eio-<op>#<n> takes/],
    ];
    for (const [text, msg] of cases) {
      let err: unknown;
      try {
        parseFault(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(FaultSyntaxError);
      expect((err as FaultSyntaxError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(msg);
    }
  });

  it("validates plans read from scenario files, objects or strings", () => {
    expect(validatePlan([{ point: "checkpoint.ack", kind: "crash", occurrence: 1 }, "disk:lost"], "f.json")).toEqual([{ kind: "crash", point: "checkpoint.ack", occurrence: 1 }, { kind: "disk", disk: { kind: "lost" } }]);
    expect(() => validatePlan([{ kind: "crash", point: "nowhere", occurrence: 1 }], "f.json")).toThrow(/f\.json: faults\[0\]: unknown fault point "nowhere"/);
    expect(() => validatePlan([{ kind: "meteor" }], "f.json")).toThrow(/unknown fault kind "meteor"/);
    expect(() => validatePlan([{ kind: "crash", point: "checkpoint.ack", occurrence: 1, when: "now" }], "f.json")).toThrow(/unexpected or missing fields/);
  });
});
