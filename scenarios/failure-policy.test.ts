import { describe, expect, it } from "vitest";
import type { CompletedCheckpointView } from "../engine/runtime/job-spec.ts";
import type { FailureEvent } from "../engine/checkpoint/stats.ts";
import { FailureManager } from "../engine/checkpoint/failure-manager.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS } from "./spec.ts";
import { FailurePolicyCheck } from "./failure-policy.ts";

const done = (checkpointId: number) => ({ checkpointId }) as CompletedCheckpointView;
const thresholdFailure = (tolerable: number, id: number): FailureEvent => ({ time: 0, attempt: 0, task: "coordinator", error: `Exceeded checkpoint tolerable failure threshold (${tolerable}): checkpoint ${id} failed: Checkpoint expired before completing.`, injected: false });

describe("the job fails over exactly when checkpoint failures exceed the tolerable number", () => {
  it("follows Flink's rule: consecutive counted failures, each checkpoint once, newer than the last completed, never a savepoint", () => {
    const check = new FailurePolicyCheck(1);
    const o = check.startProcess();
    o.failed!(2, "CHECKPOINT_EXPIRED", false, 0); // 1 of 1 tolerated
    o.failed!(2, "CHECKPOINT_DECLINED", false, 0); // the same checkpoint again: not counted twice
    o.failed!(3, "CHECKPOINT_SUBSUMED", false, 0); // not a reason that counts
    o.failed!(4, "IO_EXCEPTION", true, 0); // a savepoint never counts
    o.completed!(done(5)); // starts the count again
    o.failed!(1, "CHECKPOINT_EXPIRED", false, 0); // older than the last completed
    o.failed!(6, "IO_EXCEPTION", false, 0);
    o.failed!(7, "FINALIZE_CHECKPOINT_FAILURE", false, 0); // second in a row: the job must fail over here
    o.failed!(8, "CHECKPOINT_EXPIRED", false, 0); // the count starts again after the failover
    check.endProcess({ failures: [thresholdFailure(1, 7)], restores: [], end: "finished" });
    expect(check.result()).toEqual({ property: "the job failed over exactly when checkpoint failures exceeded the tolerable number", valid: true, message: "4 counted checkpoint failures, tolerable 1: 1 failover on the threshold, as the rule says" });
  });

  it("agrees with the engine's FailureManager on the same sequence", () => {
    const events: [number, "CHECKPOINT_EXPIRED" | "IO_EXCEPTION" | "CHECKPOINT_SUBSUMED" | "done", boolean][] = [
      [1, "CHECKPOINT_EXPIRED", false], [2, "done", false], [3, "IO_EXCEPTION", false], [3, "IO_EXCEPTION", false], [4, "CHECKPOINT_SUBSUMED", false], [5, "IO_EXCEPTION", true], [6, "CHECKPOINT_EXPIRED", false], [7, "CHECKPOINT_EXPIRED", false],
    ];
    const fm = new FailureManager(1);
    const check = new FailurePolicyCheck(1);
    const o = check.startProcess();
    const failures: FailureEvent[] = [];
    for (const [id, what, savepoint] of events) {
      if (what === "done") {
        fm.onSuccess(id);
        o.completed!(done(id));
        continue;
      }
      o.failed!(id, what, savepoint, 0);
      if (fm.onFailure(id, what, savepoint)) failures.push(thresholdFailure(1, id));
    }
    expect(failures.map((f) => f.error.match(/checkpoint (\d+) failed/)![1])).toEqual(["6"]);
    check.endProcess({ failures, restores: [], end: "finished" });
    expect(check.problems).toEqual([]);
  });

  it("names a failover too early, one missing, and one at the wrong checkpoint", () => {
    const cases: [number[], number[], string][] = [
      [[3], [3], "the job failed on the checkpoint failure threshold (1) at checkpoint 3, but no more than 1 consecutive counted failures had come before it"],
      [[3, 4], [], "checkpoint 4 was failure 2 in a row (more than the 1 tolerable), but the job did not fail over"],
      [[3, 4, 5], [5], "the job failed on the checkpoint failure threshold at checkpoint 5, but by the rule at checkpoint 4"],
    ];
    for (const [failed, actual, message] of cases) {
      const check = new FailurePolicyCheck(1);
      const o = check.startProcess();
      for (const id of failed) o.failed!(id, "CHECKPOINT_EXPIRED", false, 0);
      check.endProcess({ failures: actual.map((id) => thresholdFailure(1, id)), restores: [], end: "finished" });
      expect(check.result()).toMatchObject({ valid: false, message });
    }
  });

  it("holds in a swarm run whose failing fsync fails the job over on the threshold, across a process kill", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("tolerableFailures=0"), faults: parsePlan("disk:eio-fsync@chk-#3, kill@checkpoint.trigger#12") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.kills.length).toBe(1);
    const policy = run!.checks.find((c) => c.property === "the job failed over exactly when checkpoint failures exceeded the tolerable number");
    expect(policy).toMatchObject({ valid: true, message: "1 counted checkpoint failure, tolerable 0: 1 failover on the threshold, as the rule says" });
  });

  it("holds in a run whose intermittent disk fails three checkpoints with completions between: failures not in a row never fail the job over", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 1, config: parseConfig("backend=file,tolerableFailures=1"), faults: parsePlan("disk:eio-write@chk-#2*3/10") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.result.failures.length).toBe(0);
    const policy = run!.checks.find((c) => c.property === "the job failed over exactly when checkpoint failures exceeded the tolerable number");
    expect(policy).toMatchObject({ valid: true, message: "3 counted checkpoint failures, tolerable 1: 0 failovers on the threshold, as the rule says" });
  });
});
