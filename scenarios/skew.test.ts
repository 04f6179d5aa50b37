import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { faultPlan } from "./arbitraries/fault-plan.ts";
import { runCase } from "./outcome.ts";
import { SCENARIOS } from "./spec.ts";
import { swarmConfig } from "./swarm.ts";

const spec = SCENARIOS.swarm.spec;

describe("source clock skew", () => {
  test("a clock stepped back mid-run changes the run's trace; a constant offset from the start does not", () => {
    const hash = (faults: Parameters<typeof runCase>[1]["faults"]) => {
      const r = runCase(spec, { engineSeed: 7, config: {}, faults });
      expect(r.outcome).toEqual({ kind: "passed" });
      return r.run!.result.traceHash;
    };
    const plain = hash([]);
    // Watermarks of subtask 0 stall for 30 s of virtual time: windows fire later, the trace differs.
    expect(hash([{ kind: "skew", task: "#0", ms: -30_000, fromMs: 20_000 }])).not.toBe(plain);
    // A clock 20 % fast emits watermarks more often.
    expect(hash([{ kind: "skew", ms: 0, driftPpm: 200_000 }])).not.toBe(plain);
    // Only intervals on the task's own clock matter: an offset it had all along changes nothing.
    expect(hash([{ kind: "skew", ms: -300_000 }])).toBe(plain);
  });

  // Exactly-once under skew, over configurations and seeds: skews alone, and with crashes and kills.
  const cases = fc.record({
    engineSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    config: swarmConfig(spec, { dimensions: ["backend", "sourceParallelism", "windowParallelism", "checkpointIntervalMs", "batchSize"] }),
    faults: faultPlan({ passages: new Map([["checkpoint.complete", 10], ["sink.commit", 10], ["task.process", 60]]), points: ["checkpoint.complete", "sink.commit", "task.process"], kinds: ["skew", "crash", "kill"], tasks: ["#0", "#1", "Source"], maxFaults: 3, skewWithinMs: 150_000 }),
  });
  test.prop([cases], { numRuns: 40, seed: 8 })("committed output equals the oracle, once, under skew", (c) => {
    const { outcome } = runCase(spec, c);
    expect(outcome).toEqual({ kind: "passed" });
  });
});
