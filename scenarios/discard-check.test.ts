import { describe, expect, it } from "vitest";
import { DiscardCheck } from "./discard-check.ts";
import { PROPERTIES } from "./checkers.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS } from "./spec.ts";

describe("no failed checkpoint leaves anything in storage", () => {
  it("judges the failed checkpoints of each cleanly ended process against the storage, and not a killed one", () => {
    const check = new DiscardCheck();
    const stored = new Set([3, 4]);
    const holds = (id: number) => stored.has(id);
    const first = check.startProcess();
    first.failed!(2, "CHECKPOINT_EXPIRED", false, 100);
    first.failed!(4, "JOB_FAILOVER_REGION", false, 200); // killed before its discard: not judged
    check.endProcess({ failures: [], restores: [], end: "stopped" });
    const second = check.startProcess();
    second.failed!(5, "IO_EXCEPTION", false, 300);
    second.failed!(6, "CHECKPOINT_DECLINED", true, 400); // a savepoint: its own storage
    check.endProcess({ failures: [], restores: [], end: "finished", holds });
    expect(check.result()).toEqual({ property: PROPERTIES.discard, valid: true, message: "1 failed checkpoint: nothing of any left in storage" });
    const third = check.startProcess();
    third.failed!(3, "TASK_FAILURE", false, 500);
    check.endProcess({ failures: [], restores: [], end: "failed", holds });
    expect(check.result().message).toBe("checkpoint 3 failed at 500 (TASK_FAILURE), but its files were still in storage when the job gave up");
  });

  it("holds in swarm runs whose checkpoints fail: declined (file), cancelled by a crash at the ack (kv) and by one while the checkpoint is pending (memory)", () => {
    const cases: [string, string, string][] = [
      ["backend=file", "disk:eio-write@chk-#2", "1 failed checkpoint"],
      ["backend=kv,asyncMs=5000", "crash@checkpoint.ack#1", "1 failed checkpoint"],
      ["backend=memory,asyncMs=5000", "crash@task.process#191", "1 failed checkpoint"],
    ];
    for (const [config, faults, seen] of cases) {
      const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig(config), faults: parsePlan(faults) });
      expect(outcome, config).toEqual({ kind: "passed" });
      expect(run!.checks.find((c) => c.property === PROPERTIES.discard)?.message, config).toBe(`${seen}: nothing of any left in storage`);
    }
  });
});
