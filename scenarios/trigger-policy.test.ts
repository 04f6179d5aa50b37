import { describe, expect, it } from "vitest";
import type { CompletedCheckpointView } from "../engine/runtime/job-spec.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS } from "./spec.ts";
import { TriggerPolicyCheck } from "./trigger-policy.ts";
import { missedTrigger, type CadenceEvent } from "./trigger-cadence.ts";
import { PROPERTIES } from "./checkers.ts";

const done = (checkpointId: number, time: number) => ({ checkpointId, time }) as CompletedCheckpointView;
const rules = { intervalMs: 2_000, maxConcurrent: 2, minPauseMs: 500, timeoutMs: 10_000 };

describe("checkpoints are triggered, expire and abort as configured", () => {
  it("accepts what the rules allow: a savepoint beyond the cap, the final checkpoint inside the pause, an expiry on the dot, a decline's abort, a failover's cancellations", () => {
    const check = new TriggerPolicyCheck(rules);
    const o = check.startProcess();
    o.triggered!(1, "periodic", 0, false);
    o.triggered!(2, "periodic", 2_000, false); // 1 pending, cap 2
    o.triggered!(3, "savepoint", 2_100, false); // a savepoint ignores the cap
    o.completed!(done(1, 3_000));
    o.completed!(done(3, 3_100));
    o.triggered!(4, "final", 3_200, false); // inside the pause: the final checkpoint does not wait
    o.failed!(2, "CHECKPOINT_EXPIRED", false, 12_000); // exactly its timeout
    o.failed!(4, "JOB_FAILOVER_REGION", false, 12_500);
    o.triggered!(5, "periodic", 13_000, false);
    o.declined!(5, "Window#1", "IO_EXCEPTION", 13_100);
    o.failed!(5, "IO_EXCEPTION", false, 13_100); // as the decline arrives, for its reason
    o.declined!(5, "Window#0", "IO_EXCEPTION", 13_200); // a late decline of an ended checkpoint: nothing to abort
    const next = check.startProcess(); // a new process resumes from checkpoint 3
    next.triggered!(6, "periodic", 1_000, false);
    expect(check.result()).toEqual({ property: PROPERTIES.triggerPolicy, valid: true, message: "6 triggers, 1 expiry, 1 decline: every 2000 ms, at most 2 pending, 500 ms pause, 10000 ms timeout, new ids" });
  });

  it("names each broken rule", () => {
    const cases: [(o: ReturnType<TriggerPolicyCheck["startProcess"]>) => void, string][] = [
      [(o) => (o.triggered!(1, "periodic", 0, false), o.triggered!(2, "periodic", 1, false), o.triggered!(3, "final", 2, false)), "checkpoint 3 was triggered while 2 were pending (1, 2): max-concurrent-checkpoints is 2"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.completed!(done(1, 100)), o.triggered!(2, "periodic", 599, false)), "checkpoint 2 was triggered 499 ms after checkpoint 1 completed: the minimum pause is 500 ms"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.completed!(done(1, 10_001))), "checkpoint 1 was still pending 10001 ms after its trigger: its timeout (10000 ms) had passed, so it should have expired; checkpoint 1 completed, but it was not pending"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.failed!(1, "CHECKPOINT_EXPIRED", false, 9_999)), "checkpoint 1 expired 9999 ms after its trigger: its timeout is 10000 ms"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.triggered!(2, "periodic", 20_000, false)), "checkpoint 1 was still pending 20000 ms after its trigger: its timeout (10000 ms) had passed, so it should have expired"],
      [(o) => (o.triggered!(2, "periodic", 0, false), o.failed!(2, "CHECKPOINT_DECLINED", false, 1), o.triggered!(2, "periodic", 2, false)), "checkpoint 2 was triggered after checkpoint 2 in the same process: ids must only grow"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.declined!(1, "Source#0", "IO_EXCEPTION", 50), o.failed!(1, "CHECKPOINT_EXPIRED", false, 10_000)), "checkpoint 1 was declined by Source#0 at 50 (IO_EXCEPTION), but failed at 10000 (CHECKPOINT_EXPIRED): a decline aborts it as it arrives"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.declined!(1, "Source#0", "IO_EXCEPTION", 50), o.triggered!(2, "periodic", 2_000, false)), "checkpoint 1 was still pending at 2000, though Source#0 had declined it at 50 (IO_EXCEPTION): a decline aborts it as it arrives"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.declined!(1, "Source#0", "IO_EXCEPTION", 50), o.failed!(1, "CHECKPOINT_DECLINED", false, 50)), "checkpoint 1 was declined by Source#0 at 50 (IO_EXCEPTION), but failed at 50 (CHECKPOINT_DECLINED): a decline aborts it as it arrives"],
      [(o) => (o.triggered!(1, "periodic", 0, false), o.declined!(1, "Source#0", "IO_EXCEPTION", 50), o.completed!(done(1, 60))), "checkpoint 1 completed at 60, but Source#0 had declined it at 50 (IO_EXCEPTION): a decline aborts it as it arrives"],
    ];
    for (const [run, message] of cases) {
      const check = new TriggerPolicyCheck(rules);
      run(check.startProcess());
      expect(check.result()).toMatchObject({ valid: false, message });
    }
    const check = new TriggerPolicyCheck(rules);
    const first = check.startProcess();
    first.triggered!(7, "periodic", 0, false);
    first.completed!(done(7, 10));
    check.startProcess().triggered!(5, "periodic", 0, false);
    expect(check.result().message).toBe("checkpoint 5 was triggered, but checkpoint 7 had completed earlier in the run: a reused id writes over a stored checkpoint");
  });

  it("holds in a swarm run whose slow alignment makes a checkpoint expire, with two allowed pending", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("maxConcurrent=2"), faults: parsePlan("slow@checkpoint.alignment#2[#0]+700000ms") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.checks.find((c) => c.property === PROPERTIES.triggerPolicy)).toEqual({ property: PROPERTIES.triggerPolicy, valid: true, message: "4 triggers, 1 expiry, 0 declines: every 10000 ms, at most 2 pending, 500 ms pause, 600000 ms timeout, new ids" });
  });

  it("holds in a swarm run where a task declines a checkpoint (an I/O error in its async phase): the coordinator aborts it as the decline arrives", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("backend=file"), faults: parsePlan("disk:eio-write@chk-#2") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.checks.find((c) => c.property === PROPERTIES.triggerPolicy)).toEqual({ property: PROPERTIES.triggerPolicy, valid: true, message: "18 triggers, 0 expiries, 1 decline: every 10000 ms, at most 1 pending, 500 ms pause, 600000 ms timeout, new ids" });
  });

  it("holds in a run whose restart deploys a job whose sources have ended: its final checkpoint is triggered at the restart's instant", () => {
    // A failover and its restart (delay 0) at one instant, the final checkpoint triggered then too:
    // only the coordinator's own order of start, stop and trigger tells which came first.
    const { outcome } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("backend=memory,sourceParallelism=1,restart=fixed-delay:10:0,asyncMs=16178"), faults: parsePlan("crash@task.process#220, slow@checkpoint.notify#21+5000ms*9>crash, crash@task.process#1587") });
    expect(outcome).toEqual({ kind: "passed" });
  });

  it("periodic checkpoints come on time: an interval after a periodic trigger or deploy, at an end when as many as allowed were pending, after the pause, not while a stop's savepoint is pending, and a savepoint that does not stop leaves the schedule", () => {
    const r = { intervalMs: 1_000, maxConcurrent: 1, minPauseMs: 300 };
    const t = (time: number, id: number, trigger: "periodic" | "final" | "savepoint" | "stop" = "periodic"): CadenceEvent => ({ kind: "trigger", time, id, trigger });
    const end = (time: number, id: number, completed = true): CadenceEvent => ({ kind: "end", time, id, completed });
    const fine: CadenceEvent[][] = [
      [t(0, 1), end(50, 1), t(1_000, 2), end(1_900, 2), t(2_200, 3)], // due at 2,000; the pause after the completion at 1,900 holds it to 2,200
      [t(0, 1), end(2_500, 1), t(2_800, 2)], // still pending at 1,000: due at its end, 2,500, and the pause after it
      [t(0, 1), end(10, 1), { kind: "stop", time: 500 }, { kind: "start", time: 5_000 }, t(6_000, 2)], // nothing due between a failover and the next deploy
      [t(0, 1, "stop"), end(5_000, 1, false), t(5_000, 2)], // a failed stop: periodic checkpoints again at once (its interval has passed)
      [t(0, 1, "stop"), end(500, 1), { kind: "stop", time: 9_000 }], // a completed stop: the job is stopping
      [t(0, 1), end(50, 1), t(500, 2, "savepoint"), end(600, 2), t(1_000, 3)], // a savepoint between: the timer runs on
      [t(0, 1), end(50, 1), t(900, 2, "savepoint"), end(1_400, 2), t(1_700, 3)], // the savepoint pending at 1,000 counts: due at its end, then the pause
    ];
    for (const events of fine) expect(missedTrigger(events, r), JSON.stringify(events)).toBeUndefined();
    expect(missedTrigger([t(0, 1, "stop"), end(5_000, 1, false), t(5_300, 2)], r)).toMatch(/^no checkpoint was triggered between 5000 /);
    // A savepoint that does not stop the job neither moves the next periodic trigger nor suspends it.
    expect(missedTrigger([t(0, 1), end(50, 1), t(500, 2, "savepoint"), end(600, 2), t(1_500, 3)], r)).toMatch(/^no checkpoint was triggered between 1000 \(1000 ms after the last trigger, at 0\) and 1500/);
    expect(missedTrigger([t(0, 1), end(50, 1), t(500, 2, "savepoint"), t(1_600, 3)], { ...r, maxConcurrent: 2 })).toMatch(/^no checkpoint was triggered between 1000 /);
    expect(missedTrigger([t(0, 1), end(50, 1), t(1_001, 2)], r)).toBe("no checkpoint was triggered between 1000 (1000 ms after the last trigger, at 0) and 1001: the interval is 1000 ms, 0 pending of 1 allowed, the minimum pause 300 ms");
    expect(missedTrigger([{ kind: "start", time: 0 }, t(1_500, 1)], r)).toMatch(/^no checkpoint was triggered between 1000 /);
    expect(missedTrigger([t(0, 1), end(2_500, 1), { kind: "stop", time: 4_000 }], r)).toMatch(/^no checkpoint was triggered between 2800 \(2800 ms after the last trigger, at 0\) and 4000/);
  });
});
