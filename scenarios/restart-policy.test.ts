import { describe, expect, it } from "vitest";
import type { FailureEvent, RestoreEvent } from "../engine/checkpoint/stats.ts";
import type { RestartStrategy } from "../engine/api/restart-strategies.ts";
import { RestartBackoff } from "../engine/runtime/restart-backoff.ts";
import { Rng } from "../engine/kernel/rng.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS } from "./spec.ts";
import { PROPERTIES } from "./checkers.ts";
import { RestartPolicyCheck } from "./restart-policy.ts";

/** A failure in `attempt`; a restore that deploys `attempt`. Attempts count deploys: a restart that fails before it deploys stays in its attempt. */
const failure = (time: number, attempt: number, task = "Window#0"): FailureEvent => ({ time, attempt, task, error: "boom", injected: true });
const restore = (time: number, attempt: number): RestoreEvent => ({ time, attempt, checkpointId: null, skipped: [] });
const fixed: RestartStrategy = { kind: "fixed-delay", attempts: 2, delay: 1_000 };
const exponential: RestartStrategy = { kind: "exponential-delay", initial: 100, max: 300, multiplier: 2, resetThreshold: 60_000, jitter: 0 };

describe("the job restarts as its restart strategy says", () => {
  it("accepts restarts on time, a restart that itself fails, the give-up, and a process killed while a restart was due", () => {
    const check = new RestartPolicyCheck(fixed);
    check.endProcess({ failures: [failure(0, 0), failure(1_000, 0, "deploy"), failure(5_000, 1)], restores: [restore(2_000, 1)], end: "failed" }); // the restart at 1,000 failed reading its restore point; the third failure exhausts 2 attempts
    check.endProcess({ failures: [failure(0, 0)], restores: [], end: "stopped" });
    expect(check.result()).toEqual({ property: PROPERTIES.restartPolicy, valid: true, message: "4 failures, 2 restarts, as fixed-delay(attempts=2, delay=1000ms) says" });
  });

  it("pairs each restart with its failure when a restart fails before it deploys, at the same instant as the restore after it", () => {
    // A rescale's second job: its savepoint's read fails twice (restart delay 0), then it restores; all at one virtual time.
    const check = new RestartPolicyCheck({ kind: "fixed-delay", attempts: 10, delay: 0 });
    check.endProcess({ failures: [failure(7, 0, "deploy"), failure(7, 0, "deploy")], restores: [restore(7, 1)], end: "finished" });
    expect(check.result().message).toBe("2 failures, 2 restarts, as fixed-delay(attempts=10, delay=0ms) says");
  });

  it("follows exponential backoff: growth by the multiplier up to the cap, and a reset after a quiet period", () => {
    const check = new RestartPolicyCheck(exponential);
    // backoffs 100, 200, 300 (capped), then 100 again after 60 s without a failure
    check.endProcess({ failures: [failure(0, 0), failure(1_000, 1), failure(2_000, 2), failure(100_000, 3)], restores: [restore(100, 1), restore(1_200, 2), restore(2_300, 3), restore(100_100, 4)], end: "finished" });
    expect(check.problems).toEqual([]);
  });

  it("agrees with the engine's RestartBackoff for every strategy on the same failures", () => {
    const strategies: RestartStrategy[] = [fixed, exponential, { kind: "failure-rate", maxFailures: 2, interval: 10_000, delay: 500 }, { kind: "none" }, { ...exponential, multiplier: 1.5, max: 10_000 }];
    const times = [0, 3_000, 4_000, 70_000, 71_000, 72_000];
    for (const s of strategies) {
      const b = new RestartBackoff(s, new Rng("r"));
      const failures: FailureEvent[] = [], restores: RestoreEvent[] = [];
      let failed = false;
      for (const t of times) {
        failures.push(failure(t, restores.length));
        const d = b.onFailure(t);
        if (!d.restart) {
          failed = true;
          break;
        }
        restores.push(restore(t + d.delay, restores.length + 1));
      }
      const check = new RestartPolicyCheck(s);
      check.endProcess({ failures, restores, end: failed ? "failed" : "finished" });
      expect(check.problems, s.kind).toEqual([]);
    }
  });

  it("names a restart too soon or too late, one that never came, a give-up too early and one that did not come", () => {
    const cases: [RestartStrategy, FailureEvent[], RestoreEvent[], "finished" | "failed", string][] = [
      [fixed, [failure(0, 0)], [restore(0, 1)], "finished", "the job restarted 0 ms after failure 1 (at 0, in Window#0); the restart strategy (fixed-delay(attempts=2, delay=1000ms)) says 1000 ms"],
      [exponential, [failure(0, 0), failure(1_000, 1)], [restore(100, 1), restore(1_100, 2)], "finished", "the job restarted 100 ms after failure 2 (at 1000, in Window#0); the restart strategy (exponential-delay(initial=100ms, max=300ms, x2, reset=60000ms, jitter=0)) says 200 ms"],
      // Jitter 0.1 of a 200 ms backoff: 180–220 ms; 221 is a jitter applied one way (or to a larger base).
      [{ ...exponential, jitter: 0.1 }, [failure(0, 0), failure(1_000, 1)], [restore(95, 1), restore(1_221, 2)], "finished", "the job restarted 221 ms after failure 2 (at 1000, in Window#0); the restart strategy (exponential-delay(initial=100ms, max=300ms, x2, reset=60000ms, jitter=0.1)) says 180–220 ms"],
      [fixed, [failure(0, 0)], [], "finished", "failure 1 (at 0) was never followed by a restart"],
      [fixed, [failure(0, 0), failure(500, 0)], [], "finished", "the job restarted 500 ms after failure 1 (at 0, in Window#0); the restart strategy (fixed-delay(attempts=2, delay=1000ms)) says 1000 ms"],
      [fixed, [failure(0, 0), failure(500, 1)], [], "finished", "failure 2 came at 500, 500 ms after failure 1, with no restart between them (due 1000 ms after it)"],
      [fixed, [failure(0, 0)], [], "failed", "the job ended FAILED after failure 1 (at 0), which the restart strategy (fixed-delay(attempts=2, delay=1000ms)) allows to restart"],
      [fixed, [failure(0, 0), failure(2_000, 1), failure(4_000, 2)], [restore(1_000, 1), restore(3_000, 2)], "finished", "failure 3 (at 4000, in Window#0) exhausted the restart strategy, but the job did not end FAILED"],
    ];
    for (const [s, failures, restores, end, message] of cases) {
      const check = new RestartPolicyCheck(s);
      check.endProcess({ failures, restores, end });
      expect(check.result()).toMatchObject({ valid: false, message });
    }
  });

  it("holds in a rescale whose second job fails twice reading its savepoint, restarting with no delay", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("backend=kv,restart=fixed-delay:10:0,rescale=10000:1"), faults: parsePlan("disk:eio-read#1*2/1") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.checks.find((c) => c.property === PROPERTIES.restartPolicy)?.message).toBe("2 failures, 2 restarts, as fixed-delay(attempts=10, delay=0ms) says");
  });

  it("a swarm run whose failures exhaust fixed-delay gives up as Flink does: FAILED, and the run passes with exact but partial output", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("restart=fixed-delay:1:0"), faults: parsePlan("crash@task.process#100, crash@task.process#300") });
    expect(outcome).toEqual({ kind: "passed" });
    const r = run!.result;
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/^Recovery is suppressed by fixed-delay\(attempts=1, delay=0ms\)/);
    const by = (p: string) => run!.checks.find((c) => c.property === p);
    expect(by(PROPERTIES.restartPolicy)?.message).toBe("2 failures, 1 restart, as fixed-delay(attempts=1, delay=0ms) says");
    expect(by(PROPERTIES.finished)?.message).toMatch(/^gave up after 1 restart, as its restart strategy says: Recovery is suppressed/);
    expect(by(PROPERTIES.oracle)?.message).toMatch(new RegExp(`^${run!.committed.length} windows? of ${run!.oracle.length} committed before the job gave up, exact sums and counts$`));
    expect(run!.committed.length).toBeLessThan(run!.oracle.length);
    expect(by(PROPERTIES.conservation)).toBeUndefined();
    // With one restart allowed too many, the same faults are a violation of the restart rule, and the job is not let off.
    const late = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("restart=fixed-delay:2:0"), faults: parsePlan("crash@task.process#100, crash@task.process#300") });
    expect(late.outcome).toEqual({ kind: "passed" });
    expect(late.run!.result.status).toBe("FINISHED");
  });

  it("holds in a swarm run that restarts with exponential backoff at its cap", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("restart=exponential-delay:1:1:1.5:60000:0"), faults: parsePlan("disk:enospc+2458>crash+1ms") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.checks.find((c) => c.property === PROPERTIES.restartPolicy)).toEqual({ property: PROPERTIES.restartPolicy, valid: true, message: "2 failures, 2 restarts, as exponential-delay(initial=1ms, max=1ms, x1.5, reset=60000ms, jitter=0) says" });
  });
});
