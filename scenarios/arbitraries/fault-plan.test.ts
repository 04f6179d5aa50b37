import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { FAULT_POINTS, LOSE_POINTS, SLOW_POINTS } from "../../engine/checkpoint/faults.ts";
import { describeFault, describePlan, faultLabel, parseFault, parsePlan } from "../../sim/faults/fault-plan.ts";
import { SCENARIOS } from "../spec.ts";
import { applyFeed, ConfigSyntaxError, configLabels, describeConfig, parseConfig, SWARM_DIMENSIONS, swarmConfig } from "../swarm.ts";
import type { ScenarioSpec } from "../spec.ts";
import { faultPlan } from "./fault-plan.ts";
import { targetKey } from "../../sim/faults/nemesis.ts";
import { runCase } from "../outcome.ts";
import { PROPERTIES } from "../checkers.ts";

const passages = new Map(FAULT_POINTS.map((p) => [p, 30]));
const everything = faultPlan({ passages, maxFaults: 6, tasks: ["#0", "Window#1", "Source"], kinds: ["crash", "kill", "slow", "lose", "disk", "toxic", "skew"], diskKinds: ["enospc", "eio", "torn", "lost", "bitflip", "lying-fsync"] });

describe("the fault model round-trips through its text form", () => {
  test.prop([everything], { numRuns: 300 })("parseFault(describeFault(f)) is f, and a plan parses back to itself", (plan) => {
    for (const f of plan) expect(parseFault(describeFault(f))).toEqual(f);
    expect(parsePlan(describePlan(plan))).toEqual(plan);
  });

  test.prop([swarmConfig(SCENARIOS.swarm.spec)], { numRuns: 300 })("parseConfig(describeConfig(c)) is c, and every drawn dimension is counted", (c) => {
    expect(parseConfig(describeConfig(c))).toEqual(c);
    expect(configLabels(c).filter((l) => !l.includes("="))).toEqual(SWARM_DIMENSIONS.filter((d) => c[d] !== undefined));
  });

  test("skew's text form, by example", () => {
    expect(parseFault("skew[Source#1]-3000ms@60000ms~-200ppm")).toEqual({ kind: "skew", task: "Source#1", ms: -3000, fromMs: 60000, driftPpm: -200 });
    expect(describeFault({ kind: "skew", ms: 0, driftPpm: 5 })).toBe("skew+0ms~5ppm");
    expect(parsePlan("crash@restore#1, skew+250ms")).toEqual([{ kind: "crash", point: "restore", occurrence: 1 }, { kind: "skew", ms: 250 }]);
    expect(() => parseFault("skew+5ms~-1000000ppm")).toThrow(/ppm must be within/);
    expect(() => parseFault("skew5ms")).toThrow(/skew\[<task>\]±<ms>ms/);
  });

  test("a fault aimed at a target draws its occurrence within that target's passages; a subtask the calibration never passed, within the point's", () => {
    const counted = new Map([["task.process", 1000], [targetKey("task.process", "#0"), 10], [targetKey("task.process", "#3"), 0], [targetKey("task.process", "Window"), 500]]);
    const plans = fc.sample(faultPlan({ passages: counted, points: ["task.process"], tasks: ["#0", "#3", "Window"], kinds: ["crash"] }), { numRuns: 2000, seed: 3 }).flat();
    const highest = (task: string | undefined) => Math.max(...plans.filter((f) => f.kind === "crash" && f.task === task).map((f) => (f as { occurrence: number }).occurrence));
    expect(highest("#0")).toBe(10);
    expect(highest("Window")).toBe(500);
    for (const task of ["#3", undefined]) {
      expect(highest(task), String(task)).toBeGreaterThan(500);
      expect(highest(task), String(task)).toBeLessThanOrEqual(1000);
    }
  });

  test("a failing disk call aimed at a path draws n within about the calls the calibration made there; reads and unaimed ones as before", () => {
    const counted = new Map([["fs.write", 400], [targetKey("fs.write", "_metadata"), 30], [targetKey("fs.write", "/out"), 0]]);
    const eio = fc.sample(faultPlan({ passages: counted, kinds: ["disk"], diskKinds: ["eio"] }), { numRuns: 1500, seed: 9 }).flat()
      .map((f) => (f.kind === "disk" && f.disk.kind === "eio" ? f.disk : undefined)!);
    const highest = (pred: (d: (typeof eio)[number]) => boolean) => Math.max(...eio.filter(pred).map((d) => d.occurrence!));
    expect(highest((d) => d.path === "_metadata" && d.op !== "read")).toBe(10);
    expect(highest((d) => d.op === "read")).toBe(4);
    expect(highest((d) => d.path === undefined && d.op !== "read")).toBe(40);
    expect(highest((d) => d.path === "/out" && d.op !== "read")).toBe(40); // never written in the calibration: any number
  });

  test("half the I/O errors are intermittent: 2 to 4 failures, spaced within the calls the fault's first one is drawn from", () => {
    const counted = new Map([["fs.write", 400], [targetKey("fs.write", "_metadata"), 30]]);
    const eio = fc.sample(faultPlan({ passages: counted, kinds: ["disk"], diskKinds: ["eio"] }), { numRuns: 1500, seed: 9 }).flat()
      .map((f) => (f.kind === "disk" && f.disk.kind === "eio" ? f.disk : undefined)!);
    const again = eio.filter((d) => d.times !== undefined);
    expect(again.length / eio.length).toBeGreaterThan(0.4);
    expect(again.length / eio.length).toBeLessThan(0.6);
    expect(new Set(again.map((d) => d.times))).toEqual(new Set([2, 3, 4]));
    expect(Math.max(...again.filter((d) => d.path === "_metadata" && d.op !== "read").map((d) => d.every!))).toBe(10);
    expect(Math.max(...again.filter((d) => d.op === "read").map((d) => d.every!))).toBe(4);
    expect(Math.min(...again.map((d) => d.every!))).toBe(1);
  });

  test("a fault never aims at a task the calibration counted and never saw pass the point, bar a subtask index where other subtasks pass", () => {
    const tasks = ["#0", "#3", "Source", "Window", "coordinator"];
    const counted = new Map([
      ["checkpoint.trigger", 20], ...tasks.map((t) => [targetKey("checkpoint.trigger", t), t === "coordinator" ? 20 : 0] as const),
      ["checkpoint.alignment", 40], ...tasks.map((t) => [targetKey("checkpoint.alignment", t), t === "#0" || t === "Window" ? 40 : 0] as const),
    ]);
    const aimedAt = (point: "checkpoint.trigger" | "checkpoint.alignment") =>
      new Set(fc.sample(faultPlan({ passages: counted, points: [point], tasks, kinds: ["crash"] }), { numRuns: 500, seed: 5 }).flat().map((f) => (f as { task?: string }).task));
    expect(aimedAt("checkpoint.trigger")).toEqual(new Set([undefined, "coordinator"]));
    expect(aimedAt("checkpoint.alignment")).toEqual(new Set([undefined, "#0", "#3", "Window"]));
  });

  test("symbols=<count>:<first> takes consecutive pairs of the pool, wrapping, at the scenario's total trade rate", () => {
    const feed = SCENARIOS.swarm.spec.feed as Extract<ScenarioSpec["feed"], { kind: "generated" }>;
    expect(applyFeed(feed, parseConfig("symbols=3:38"))).toEqual({ ...feed, symbols: ["SUIUSDT", "PEPEUSDT", "BTCUSDT"], ratePerSec: feed.ratePerSec });
    expect(applyFeed(feed, parseConfig("symbols=10:0"))).toMatchObject({ ratePerSec: 1 }); // 3 × 4 trades/s over 10 symbols
    expect(applyFeed(feed, {})).toBe(feed);
    expect(() => parseConfig("symbols=0:1")).toThrow(/expected symbols=<count 1\.\.40>:<first 0\.\.39>/);
    expect(() => parseConfig("symbols=2:40")).toThrow(ConfigSyntaxError);
  });

  test("rescale=<atMs>:<window parallelism>[:<loadMs>][@<source parallelism>]: a rescale may take the source along, and the run holds", () => {
    expect(parseConfig("rescale=60000:1:5000@3")).toEqual({ rescale: { atMs: 60_000, parallelism: 1, loadMs: 5_000, sourceParallelism: 3 } });
    expect(describeConfig(parseConfig("rescale=60000:2@1"))).toBe("rescale=60000:2@1");
    expect(() => parseConfig("rescale=60000:2@0")).toThrow(/expected rescale=<atMs>:<window parallelism 1\.\.64>\[:<loadMs>\]\[@<source parallelism 1\.\.64>\]/);
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 3, config: parseConfig("rescale=60000:1@3"), faults: parsePlan("crash@checkpoint.ack#12") });
    expect(outcome.kind).toBe("passed");
    // The stage after the savepoint: three source subtasks (two before) share the three symbols' offsets.
    expect(run!.result.plan[0]).toBe("#0 Source: Binance Trade Source (parallelism 3)");
    expect(run!.result.restarts).toBe(1);
  });

  test("savepoint=<atMs>: a savepoint that does not stop the job; the periodic checkpoint triggered at its instant still completes", () => {
    expect(parseConfig("savepoint=20000")).toEqual({ savepoint: { atMs: 20_000 } });
    expect(() => parseConfig("savepoint=soon")).toThrow(/expected savepoint=<ms into the feed>/);
    // Both triggers go out at once; before messages to a task kept their order, the savepoint's
    // overtook the checkpoint's, and the checkpoint waited 600 s to expire, with none after it.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("savepoint=20000"), faults: [] });
    expect(outcome.kind).toBe("passed");
    expect(run!.result.checkpoints.filter((c) => c.savepoint).map((c) => [c.id, c.status])).toEqual([[3, "completed"]]);
    expect(run!.checks.find((c) => c.property === PROPERTIES.triggerPolicy)?.message).toBe("19 triggers, 0 expiries, 0 declines: every 10000 ms, at most 1 pending, 500 ms pause, 600000 ms timeout, new ids");
  });

  test("savepoint=<atMs> and a kill after it: the new process resumes from an older checkpoint, and its ids continue after the savepoint's", () => {
    // Seed 912's first finding: the new process counted on from the checkpoint it resumed from, and gave its next checkpoint the savepoint's id.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("savepoint=150001,symbols=1:0"), faults: parsePlan("kill@fs.write#352") });
    expect(outcome.kind).toBe("passed");
    expect(run!.kills).toHaveLength(1);
    expect(run!.checks.find((c) => c.property === PROPERTIES.triggerPolicy)?.message).toMatch(/, new ids$/);
  });

  test("savepoint=<atMs>, a failover and a kill: the failover does not restore from the savepoint, so nothing it committed comes again", () => {
    // Seed 912's second finding: checkpoint 4 completed after savepoint 5; a failover restored from the
    // savepoint and committed its transaction (window 23:55); a kill followed, and the new process
    // resumed from checkpoint 4 (savepoints are not in checkpoint storage) and fired 23:55 again.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("savepoint=107448,asyncMs=50000"), faults: parsePlan("kill@fs.write#22[/out], slow@checkpoint.alignment#1+1ms>crash, slow@checkpoint.sync-snapshot#18+5000ms*3>crash") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.kills).toHaveLength(1);
  });

  test("asyncMs=<ms> (slow checkpoint storage) makes checkpoints overlap without any fault, and the run still holds", () => {
    const overlaps = (config: string) => {
      const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 3, config: parseConfig(config), faults: [] });
      expect(outcome.kind, config).toBe("passed");
      const done = run!.result.checkpoints.filter((c) => c.status === "completed");
      // A checkpoint triggered while an older one was still running.
      return done.filter((c, i) => i > 0 && c.triggerTime < done[i - 1].endTime!).length;
    };
    expect(overlaps("maxConcurrent=3")).toBe(0);
    expect(overlaps("maxConcurrent=3,asyncMs=30000")).toBeGreaterThan(3);
    expect(() => parseConfig("asyncMs=0")).toThrow(/asyncMs=0": expected a whole number in 1\.\.3600000/);
  });

  test("the arbitraries draw every fault kind and every configuration dimension", () => {
    const kinds = new Set(fc.sample(everything, { numRuns: 400, seed: 1 }).flat().map(faultLabel));
    for (const k of ["crash", "kill", "slow", "lose", "skew", "disk:enospc", "disk:eio-write", "disk:torn", "disk:lost", "disk:bitflip", "disk:lying-fsync", "toxic:reorder", "toxic:latency"]) expect(kinds, k).toContain(k);
    const slows = fc.sample(everything, { numRuns: 400, seed: 1 }).flat().filter((f) => f.kind === "slow");
    // Slow steps only where the engine asks for a slowdown; spells and spells that end in a death are drawn.
    expect(new Set(slows.map((f) => f.point))).toEqual(new Set(SLOW_POINTS));
    expect(slows.some((f) => (f.times ?? 1) > 1)).toBe(true);
    expect(new Set(slows.map((f) => f.then))).toEqual(new Set([undefined, "crash", "kill"]));
    // Lost RPCs at each point that has them, one or a few in a row; a trigger only ever aimed at a source task.
    const losses = fc.sample(everything, { numRuns: 400, seed: 1 }).flat().flatMap((f) => (f.kind === "lose" ? [f] : []));
    expect(new Set(losses.map((f) => f.point))).toEqual(new Set(LOSE_POINTS));
    expect(losses.some((f) => f.times === undefined) && losses.some((f) => (f.times ?? 1) > 1)).toBe(true);
    expect(new Set(losses.filter((f) => f.point === "checkpoint.trigger").map((f) => f.task))).toEqual(new Set([undefined, "#0", "Source"]));
    expect(new Set(losses.filter((f) => f.point !== "checkpoint.trigger").map((f) => f.task))).toEqual(new Set([undefined, "#0", "Window#1", "Source"]));
    // A failing disk call is sometimes followed by a death, at once or up to 30 s later; other disk faults never are.
    const disks = fc.sample(everything, { numRuns: 400, seed: 1 }).flat().filter((f) => f.kind === "disk");
    expect(new Set(disks.filter((f) => f.disk.kind === "eio" || f.disk.kind === "enospc").map((f) => f.then))).toEqual(new Set([undefined, "crash", "kill"]));
    expect(disks.some((f) => f.then !== undefined && f.afterMs === undefined) && disks.some((f) => (f.afterMs ?? 0) > 0)).toBe(true);
    expect(disks.filter((f) => f.disk.kind !== "eio" && f.disk.kind !== "enospc" && f.then !== undefined)).toEqual([]);
    // Kills between two file-system calls, on any path or on one kind of path; never a task crash there.
    const points = fc.sample(everything, { numRuns: 400, seed: 1 }).flat().flatMap((f) => (f.kind === "crash" || f.kind === "kill" ? [f] : []));
    const atFs = points.filter((f) => f.point === "fs.write");
    expect(atFs.length).toBeGreaterThan(0);
    expect(new Set(atFs.map((f) => f.kind))).toEqual(new Set(["kill"]));
    expect(atFs.some((f) => f.task === undefined) && atFs.some((f) => f.task === "_metadata")).toBe(true);
    // Skews: of one source subtask or all, forward and back, stepping later or from the start, drifting or not.
    const skews = fc.sample(everything, { numRuns: 400, seed: 1 }).flat().filter((f) => f.kind === "skew");
    expect(new Set(skews.map((f) => f.task))).toEqual(new Set([undefined, "#0", "Source"]));
    expect(skews.some((f) => f.ms < 0) && skews.some((f) => f.ms > 0)).toBe(true);
    expect(new Set(skews.map((f) => f.fromMs === undefined))).toEqual(new Set([true, false]));
    expect(new Set(skews.map((f) => f.driftPpm === undefined))).toEqual(new Set([true, false]));
    const dims = new Set(fc.sample(swarmConfig(SCENARIOS.swarm.spec), { numRuns: 100, seed: 1 }).flatMap((c) => Object.keys(c)));
    expect([...dims].sort()).toEqual([...SWARM_DIMENSIONS].sort());
  });
});
