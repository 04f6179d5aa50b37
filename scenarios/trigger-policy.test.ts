import { describe, expect, it } from "vitest";
import type { CompletedCheckpointView } from "../engine/runtime/job-spec.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS } from "./spec.ts";
import { TriggerPolicyCheck } from "./trigger-policy.ts";
import { PROPERTIES } from "./checkers.ts";

const done = (checkpointId: number, time: number) => ({ checkpointId, time }) as CompletedCheckpointView;
const rules = { maxConcurrent: 2, minPauseMs: 500, timeoutMs: 10_000 };

describe("checkpoints are triggered and expire as configured", () => {
  it("accepts what the rules allow: a savepoint beyond the cap, the final checkpoint inside the pause, an expiry on the dot, a failover's cancellations", () => {
    const check = new TriggerPolicyCheck(rules);
    const o = check.startProcess();
    o.triggered!(1, "periodic", 0);
    o.triggered!(2, "periodic", 2_000); // 1 pending, cap 2
    o.triggered!(3, "savepoint", 2_100); // a savepoint ignores the cap
    o.completed!(done(1, 3_000));
    o.completed!(done(3, 3_100));
    o.triggered!(4, "final", 3_200); // inside the pause: the final checkpoint does not wait
    o.failed!(2, "CHECKPOINT_EXPIRED", false, 12_000); // exactly its timeout
    o.failed!(4, "JOB_FAILOVER_REGION", false, 12_500);
    o.triggered!(5, "periodic", 13_000);
    const next = check.startProcess(); // a new process resumes from checkpoint 3
    next.triggered!(6, "periodic", 1_000);
    expect(check.result()).toEqual({ property: PROPERTIES.triggerPolicy, valid: true, message: "6 triggers, 1 expiry: at most 2 pending, 500 ms pause, 10000 ms timeout, new ids" });
  });

  it("names each broken rule", () => {
    const cases: [(o: ReturnType<TriggerPolicyCheck["startProcess"]>) => void, string][] = [
      [(o) => (o.triggered!(1, "periodic", 0), o.triggered!(2, "periodic", 1), o.triggered!(3, "final", 2)), "checkpoint 3 was triggered while 2 were pending (1, 2): max-concurrent-checkpoints is 2"],
      [(o) => (o.triggered!(1, "periodic", 0), o.completed!(done(1, 100)), o.triggered!(2, "periodic", 599)), "checkpoint 2 was triggered 499 ms after checkpoint 1 completed: the minimum pause is 500 ms"],
      [(o) => (o.triggered!(1, "periodic", 0), o.completed!(done(1, 10_001))), "checkpoint 1 was still pending 10001 ms after its trigger: its timeout (10000 ms) had passed, so it should have expired; checkpoint 1 completed, but it was not pending"],
      [(o) => (o.triggered!(1, "periodic", 0), o.failed!(1, "CHECKPOINT_EXPIRED", false, 9_999)), "checkpoint 1 expired 9999 ms after its trigger: its timeout is 10000 ms"],
      [(o) => (o.triggered!(1, "periodic", 0), o.triggered!(2, "periodic", 20_000)), "checkpoint 1 was still pending 20000 ms after its trigger: its timeout (10000 ms) had passed, so it should have expired"],
      [(o) => (o.triggered!(2, "periodic", 0), o.failed!(2, "CHECKPOINT_DECLINED", false, 1), o.triggered!(2, "periodic", 2)), "checkpoint 2 was triggered after checkpoint 2 in the same process: ids must only grow"],
    ];
    for (const [run, message] of cases) {
      const check = new TriggerPolicyCheck(rules);
      run(check.startProcess());
      expect(check.result()).toMatchObject({ valid: false, message });
    }
    const check = new TriggerPolicyCheck(rules);
    const first = check.startProcess();
    first.triggered!(7, "periodic", 0);
    first.completed!(done(7, 10));
    check.startProcess().triggered!(5, "periodic", 0);
    expect(check.result().message).toBe("checkpoint 5 was triggered, but checkpoint 7 had completed earlier in the run: a reused id writes over a stored checkpoint");
  });

  it("holds in a swarm run whose slow alignment makes a checkpoint expire, with two allowed pending", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("maxConcurrent=2"), faults: parsePlan("slow@checkpoint.alignment#2[#0]+700000ms") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.checks.find((c) => c.property === PROPERTIES.triggerPolicy)).toEqual({ property: PROPERTIES.triggerPolicy, valid: true, message: "4 triggers, 1 expiry: at most 2 pending, 500 ms pause, 600000 ms timeout, new ids" });
  });
});
