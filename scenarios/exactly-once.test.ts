import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { CRASH_POINTS } from "../engine/checkpoint/faults.ts";
import { describeFault, parsePlan, type Fault } from "../sim/faults/fault-plan.ts";
import { runChaos } from "./chaos.ts";
import { runScenario, type ScenarioRun } from "./run-scenario.ts";
import { SCENARIOS, scenario, type ScenarioSpec } from "./spec.ts";

/** Memory backend, file checkpoint storage (on the in-memory Fs), EXACTLY_ONCE, 2PC sink. */
function spec(p: number, seed: string, faults: Fault[], unaligned?: { alignedTimeoutMs: number }): ScenarioSpec {
  return scenario({
    name: "exactly-once-test",
    seed,
    job: { backend: "file", mode: "exactly-once", sourceParallelism: p, windowParallelism: p, checkpointIntervalMs: 10_000, restart: { kind: "fixed-delay", attempts: 20, delay: 500 }, ...(unaligned ? { unaligned: true, alignedTimeoutMs: unaligned.alignedTimeoutMs } : {}) },
    feed: { kind: "generated", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], durationMs: 3 * 60_000, ratePerSec: 15 },
    faults,
  });
}

const passages = new Map<number, Map<string, number>>();
function passagesFor(p: number): Map<string, number> {
  let m = passages.get(p);
  if (!m) passages.set(p, (m = runScenario(spec(p, "calibration", [])).passages));
  return m;
}

/** From the trace alone: each restore names the checkpoint completed last before it. */
function restoresFromTrace(run: ScenarioRun): { used: number | null; latest: number | null }[] {
  const out: { used: number | null; latest: number | null }[] = [];
  let latest: number | null = null;
  for (const line of run.result.trace) {
    const c = / coordinator complete cp=(\d+)/.exec(line);
    if (c) latest = Number(c[1]);
    const r = / restore from (?:cp=(\d+)|scratch)/.exec(line);
    if (r) out.push({ used: r[1] ? Number(r[1]) : null, latest });
  }
  return out;
}

describe("exactly-once under crashes at every fault point", () => {
  const arb = fc
    .record({ p: fc.integer({ min: 1, max: 4 }), point: fc.constantFrom(...CRASH_POINTS), seed: fc.integer({ min: 0, max: 1e9 }), frac: fc.double({ min: 0, max: 1, noNaN: true }), sub: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) })
    .map(({ p, point, seed, frac, sub }) => {
      const max = Math.max(1, passagesFor(p).get(point) ?? 1);
      const fault: Fault = { kind: "crash", point, occurrence: 1 + Math.floor(frac * max), ...(sub !== undefined && sub < p ? { task: `#${sub}` } : {}) };
      return { p, seed: String(seed), fault };
    });

  test.prop([arb], { numRuns: 60 })("committed output equals the oracle, each window once, restores use the latest checkpoint", ({ p, seed, fault }) => {
    const run = runScenario(spec(p, seed, [fault]), { keepTrace: true });
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
    for (const r of restoresFromTrace(run)) expect(r.used).toBe(r.latest);
  });

  it("recovers from a crash at each of the 13 points a task can crash at (every point really fires)", () => {
    for (const point of CRASH_POINTS) {
      const faults: Fault[] = point === "restore"
        ? [{ kind: "crash", point: "checkpoint.complete", occurrence: 2 }, { kind: "crash", point: "restore", occurrence: 1 }]
        : [{ kind: "crash", point, occurrence: 2 }];
      const run = runScenario(spec(2, "each-point", faults), { keepTrace: true });
      expect(run.fired.map((f) => describeFault(f.fault)), point).toEqual(faults.map(describeFault));
      for (const c of run.checks) expect(c.valid, `${point}: ${c.property}: ${c.message}`).toBe(true);
      for (const r of restoresFromTrace(run)) expect(r.used).toBe(r.latest);
    }
  });
});

describe("completion notices that reach a task late (slow@checkpoint.notify)", () => {
  it("the sink's epoch stays pending through the next checkpoints; a crash before its notice arrives commits it once, from the checkpoint restored", () => {
    // Checkpoint 5 holds the first window's rows; its notice and the next two reach the sink 25 s
    // late (the interval is 10 s), then the task dies. Checkpoint 7's snapshot must still hold
    // checkpoint 5's pre-committed transaction, or the restore from 7 loses those rows.
    const faults = parsePlan("slow@checkpoint.notify#5[Sink]+25000ms*3>crash");
    const run = runScenario(spec(1, "notify", faults), { keepTrace: true });
    expect(run.fired.map((f) => describeFault(f.fault))).toEqual(faults.map(describeFault));
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
    const story = run.result.trace.map((l) => l.replace(/^\d+ /, "").trim()).filter((l) => /^coordinator complete cp=[5-7]$|cp5|^restore from/.test(l));
    expect(story).toEqual(["v1.0 sink.pre-commit 0-1-0-cp5 n=3", "coordinator complete cp=5", "coordinator complete cp=6", "coordinator complete cp=7", "restore from cp=7", "v1.0 sink.commit 0-1-0-cp5"]);
  });
});

describe("exactly-once with unaligned checkpoints (FLIP-76)", () => {
  const arb = fc
    .record({ p: fc.integer({ min: 1, max: 4 }), point: fc.constantFrom(...CRASH_POINTS), seed: fc.integer({ min: 0, max: 1e9 }), frac: fc.double({ min: 0, max: 1, noNaN: true }), timeout: fc.constantFrom<number>(0, 0, 3, 20) })
    .map(({ p, point, seed, frac, timeout }) => {
      const max = Math.max(1, passagesFor(p).get(point) ?? 1);
      return { p, seed: String(seed), timeout, fault: { kind: "crash", point, occurrence: 1 + Math.floor(frac * max) } as Fault };
    });

  // The example: an unaligned final checkpoint lost the last windows (they fire after its snapshot).
  const finalWindows = { p: 2, seed: "2675871", timeout: 0, fault: { kind: "crash", point: "task.process", occurrence: 2471 } as Fault };
  test.prop([arb], { numRuns: 30, examples: [[finalWindows]] })("committed output equals the oracle, each window once, with in-flight records persisted and replayed", ({ p, seed, timeout, fault }) => {
    const run = runScenario(spec(p, seed, [fault], { alignedTimeoutMs: timeout }), { keepTrace: true });
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
    for (const r of restoresFromTrace(run)) expect(r.used).toBe(r.latest);
  });

  it("restores a checkpoint with channel state: its in-flight records are replayed before new input", () => {
    const run = runScenario(spec(2, "3", [{ kind: "crash", point: "checkpoint.complete", occurrence: 2 }], { alignedTimeoutMs: 0 }), { keepTrace: true });
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
    // The final checkpoint is aligned (it must hold everything before end of input); the others are not.
    expect(run.result.checkpoints.filter((c) => c.status === "completed").map((c) => c.unaligned === true)).toEqual(run.result.checkpoints.filter((c) => c.status === "completed").map((c) => !c.final));
    expect(run.result.checkpoints.reduce((n, c) => n + (c.channelStateRecords ?? 0), 0)).toBeGreaterThan(0);
    expect(run.result.trace.filter((l) => / replayed in-flight n=\d+/.test(l)).length).toBeGreaterThan(0);
  });
});

describe("teeth: the harness catches what is not exactly-once", () => {
  it("AT_LEAST_ONCE with 2 source subtasks: fast-check finds wrong sums and shrinks to at most 2 faults", () => {
    const r = runChaos({ spec: SCENARIOS["at-least-once"].spec, runs: 150, seed: 42, args: ["--scenario", "at-least-once"] });
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0];
    expect(f.property).toBe("committed output equals the oracle");
    expect(f.faults.length).toBeLessThanOrEqual(2);
    expect(f.replayPath).toBe(`npx flinch chaos --scenario at-least-once --seed 42 --run ${f.index} --path ${f.path}`);
    expect(f.replay).toMatch(/^npx flinch chaos --scenario at-least-once --engine-seed \d+ .*--faults '.+'$/);
    // The replay line reproduces the same counterexample.
    const again = runChaos({ spec: SCENARIOS["at-least-once"].spec, runs: 150, seed: 42, run: f.index, path: f.path, args: ["--scenario", "at-least-once"] });
    expect(again.failures[0].faults).toEqual(f.faults);
    expect(again.failures[0].message).toBe(f.message);
  });

  it("AT_LEAST_ONCE with a single input channel behaves like EXACTLY_ONCE", () => {
    const base = SCENARIOS["at-least-once"].spec;
    const one = { ...base, job: { ...base.job, sourceParallelism: 1, windowParallelism: 1 } };
    const r = runChaos({ spec: one, runs: 40, seed: 42, points: ["checkpoint.complete", "checkpoint.ack", "task.process", "sink.commit"], args: [] });
    expect(r.failures).toEqual([]);
  });

  it("a PrintSink under EXACTLY_ONCE with crashes duplicates output", () => {
    const r = runChaos({ spec: SCENARIOS["print-sink"].spec, runs: 150, seed: 42, args: ["--scenario", "print-sink"] });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0].faults.length).toBeLessThanOrEqual(2);
    expect(r.failures[0].message).toMatch(/committed 2 times|committed .* expected/);
  });

  it("the same seeds find nothing under EXACTLY_ONCE with the 2PC sink", () => {
    const r = runChaos({ spec: SCENARIOS["exactly-once"].spec, runs: 40, seed: 42, args: [] });
    expect(r.failures).toEqual([]);
    expect(r.restarts).toBeGreaterThan(0);
  });
});

describe("restart strategies in a running job", () => {
  it("ends FAILED, saying why, when the strategy gives up", () => {
    const faults: Fault[] = [1, 2, 3].map((n) => ({ kind: "crash", point: "task.process", occurrence: n * 40 }));
    const s = { ...spec(2, "exhaust", faults), job: { ...spec(2, "x", []).job, restart: { kind: "fixed-delay" as const, attempts: 2, delay: 1_000 } } };
    const run = runScenario(s);
    expect(run.result.status).toBe("FAILED");
    expect(run.result.restarts).toBe(2);
    expect(run.result.failureReason).toMatch(/Recovery is suppressed by fixed-delay\(attempts=2, delay=1000ms\).*injected crash at task.process/);
    // Giving up as configured is what Flink does: not a liveness failure, and what was committed is exact.
    expect(run.checks.find((c) => c.property === "the job finished (or gave up as its restart strategy says)")?.message).toMatch(/^gave up after 2 restarts, as its restart strategy says/);
    expect(run.valid).toBe(true);
    const none = runScenario({ ...s, job: { ...s.job, restart: { kind: "none" } } });
    expect(none.result.status).toBe("FAILED");
    expect(none.result.restarts).toBe(0);
  });

  it("waits the restart delay in virtual time", () => {
    const run = runScenario({ ...spec(1, "delay", [{ kind: "crash", point: "task.process", occurrence: 50 }]), job: { ...spec(1, "x", []).job, restart: { kind: "fixed-delay", attempts: 1, delay: 7_000 } } });
    expect(run.result.failures).toHaveLength(1);
    expect(run.result.restores[0].time - run.result.failures[0].time).toBe(7_000);
    expect(run.valid).toBe(true);
  });
});

describe("exactly-once with a misbehaving exchange", () => {
  it("holds under drawn exchange faults and crashes", () => {
    const r = runChaos({ spec: SCENARIOS["exchange-faults"].spec, runs: 30, seed: 42, args: [] });
    expect(r.failures).toEqual([]);
  });

  it("the source repairs what the exchange breaks, and the counters say how much", () => {
    const run = runScenario({
      ...SCENARIOS["exchange-faults"].spec,
      feedFaults: { toxics: [{ kind: "duplicate", probability: 0.05 }, { kind: "drop", probability: 0.05 }, { kind: "reorder", probability: 0.05, window: 4 }, { kind: "disconnect", probability: 0.002 }, { kind: "rest-429", probability: 0.2, retryAfterMs: 500 }] },
      faults: [{ kind: "crash", point: "checkpoint.complete", occurrence: 3 }],
    });
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
    expect(run.feedStats.duplicates).toBeGreaterThan(0);
    expect(run.feedStats.backfilled).toBeGreaterThan(0);
    expect(run.feedStats.disconnects).toBeGreaterThan(0);
    expect(run.feedStats.restRetryAfter).toBeGreaterThan(0);
  });
});
