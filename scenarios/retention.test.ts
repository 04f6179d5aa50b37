import { describe, expect, it } from "vitest";
import type { CompletedCheckpointView } from "../engine/runtime/job-spec.ts";
import type { CheckpointReader } from "../engine/state/checkpoint-storage.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS } from "./spec.ts";
import { PROPERTIES } from "./checkers.ts";
import { RetentionCheck } from "./retention.ts";

/** A store's storage as the observer sees it: only `isCompleted` matters here. */
const stored = (ids: Set<number>) => ({ isCompleted: (id: number) => ids.has(id) }) as unknown as CheckpointReader;
const done = (checkpointId: number, storage: CheckpointReader, savepoint = false) => ({ checkpointId, time: 0, savepoint, storage }) as CompletedCheckpointView;

describe("the store keeps the configured number of completed checkpoints", () => {
  it("accepts a store that keeps the newest two and retires the rest; savepoints and a new process's store apart", () => {
    const check = new RetentionCheck(2, false);
    const disk = new Set<number>();
    const o = check.startProcess();
    for (const id of [1, 2, 3, 4]) {
      disk.add(id);
      disk.delete(id - 2);
      o.completed!(done(id, stored(disk)));
    }
    o.completed!(done(5, stored(disk), true)); // a savepoint: not the store's
    const next = check.startProcess(); // the next process keeps what it completes itself
    disk.add(6);
    next.completed!(done(6, stored(disk)));
    expect(check.result()).toEqual({ property: PROPERTIES.retention, valid: true, message: "5 completions: the newest 2 kept, older ones gone" });
  });

  it("names a retained checkpoint gone, and a retired one still there; with incremental chains an older one may stay", () => {
    const fewer = new RetentionCheck(2, false);
    const o = fewer.startProcess();
    o.completed!(done(1, stored(new Set([1]))));
    o.completed!(done(2, stored(new Set([2]))));
    expect(fewer.result()).toMatchObject({ valid: false, message: "when checkpoint 2 completed, checkpoint 1 of the newest 2 retained was no longer stored" });
    const more = new RetentionCheck(1, false);
    const m = more.startProcess();
    m.completed!(done(1, stored(new Set([1]))));
    m.completed!(done(2, stored(new Set([1, 2]))));
    expect(more.result()).toMatchObject({ valid: false, message: "when checkpoint 2 completed, checkpoint 1 was still stored: only the newest 1 are retained" });
    const chained = new RetentionCheck(1, true);
    const c = chained.startProcess();
    c.completed!(done(1, stored(new Set([1]))));
    c.completed!(done(2, stored(new Set([1, 2])))); // 2 is a delta on 1
    expect(chained.result()).toMatchObject({ valid: true, message: "2 completions: the newest 1 kept" });
  });

  it("holds in a swarm run that keeps three checkpoints across a crash", () => {
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("backend=file,retained=3,checkpointIntervalMs=5000"), faults: parsePlan("crash@checkpoint.ack#9") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.checks.find((c) => c.property === PROPERTIES.retention)).toMatchObject({ valid: true, message: expect.stringMatching(/^\d+ completions: the newest 3 kept, older ones gone$/) });
  });
});
