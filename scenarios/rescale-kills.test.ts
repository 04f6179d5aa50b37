import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { faultPlan } from "./arbitraries/fault-plan.ts";
import { caseSpec, runCase, type RunCase } from "./outcome.ts";
import { SCENARIOS } from "./spec.ts";
import { describePlan, parsePlan } from "../sim/faults/fault-plan.ts";
import { swarmConfig } from "./swarm.ts";

const spec = SCENARIOS.swarm.spec;

describe("process kills in rescaled runs", () => {
  it("a drawn kill stays a kill with a rescale (durable storage), and a crash with JobManager memory storage", () => {
    const kill = [{ kind: "kill" as const, point: "sink.commit" as const, occurrence: 2 }];
    expect(caseSpec(spec, { engineSeed: 1, config: { backend: "file", rescale: { atMs: 60_000, parallelism: 3 } }, faults: kill }).faults[0].kind).toBe("kill");
    expect(caseSpec(spec, { engineSeed: 1, config: { backend: "memory", rescale: { atMs: 60_000, parallelism: 3 } }, faults: kill }).faults[0].kind).toBe("crash");
    // So does the death after a slow spell or a failing disk: with memory storage it is a crash.
    const later = parsePlan("slow@checkpoint.ack#1+10ms>kill, disk:eio-write#4>kill+1ms");
    expect(describePlan(caseSpec(spec, { engineSeed: 1, config: { backend: "memory" }, faults: later }).faults)).toBe("slow@checkpoint.ack#1+10ms>crash, disk:eio-write#4>crash+1ms");
    expect(describePlan(caseSpec(spec, { engineSeed: 1, config: { backend: "kv" }, faults: later }).faults)).toBe(describePlan(later));
  });

  it("a process killed while committing its stop's savepoint resumes from that savepoint, stops again and rescales", () => {
    const config = { backend: "file" as const, rescale: { atMs: 60_000, parallelism: 3 } };
    const base = runCase(spec, { engineSeed: 3, config, faults: [] });
    expect(base.outcome).toEqual({ kind: "passed" });
    const savepoint = Number(/chk-(\d+)$/.exec(base.run!.result.savepointPath!)![1]);
    // Kill subtask 0 at its k-th commit: one of them is the savepoint's (committed on its completion, before the job stops).
    let atSavepoint = 0;
    for (let k = 1; k <= 2 * savepoint; k++) {
      const r = runCase(spec, { engineSeed: 3, config, faults: [{ kind: "kill", point: "sink.commit", occurrence: k, task: "#0" }] });
      expect(r.outcome, `kill at commit ${k}`).toEqual({ kind: "passed" });
      const [kill] = r.run!.kills;
      expect(kill.resumedFrom).toBe(kill.lastCompleted);
      if (kill.lastCompleted === savepoint && r.run!.result.savepointPath !== base.run!.result.savepointPath) {
        atSavepoint++;
        // The operator's second stop took a new savepoint, and the rescaled stage started from it.
        expect(r.run!.result.savepointPath).toMatch(/savepoints\/chk-\d+$/);
        expect(kill.resumedFrom).toBe(savepoint);
      }
    }
    expect(atSavepoint).toBe(1);
  }, 60_000);

  // Kills, crashes and slow deaths combined with a rescale, over configurations and seeds.
  const cases: fc.Arbitrary<RunCase> = fc.record({
    engineSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    config: fc.tuple(swarmConfig(spec, { dimensions: ["backend", "incremental", "checkpointIntervalMs", "maxConcurrent", "windowParallelism", "sourceParallelism"] }), fc.record({ atMs: fc.integer({ min: 10_000, max: 170_000 }), parallelism: fc.integer({ min: 1, max: 4 }) }))
      .map(([c, rescale]) => ({ ...c, backend: c.backend === "kv" ? "kv" : "file", rescale })),
    faults: faultPlan({ passages: new Map([["sink.commit", 12], ["checkpoint.complete", 12], ["checkpoint.metadata", 12], ["task.process", 200], ["restore", 2]]), points: ["sink.commit", "checkpoint.complete", "checkpoint.metadata", "task.process", "restore"], kinds: ["kill", "crash"], tasks: ["#0", "#1", "Source", "Window", "coordinator"], minFaults: 1, maxFaults: 3 }),
  });
  test.prop([cases], { numRuns: 40, seed: 11 })("exactly-once, and each new process resumes from the newest snapshot", (c) => {
    const r = runCase(spec, c);
    expect(r.outcome).toEqual({ kind: "passed" });
  });
});
