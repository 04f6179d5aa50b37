import { describe, expect, it } from "vitest";
import type { AlignmentEvent } from "../engine/checkpoint/alignment/types.ts";
import type { CheckpointOptions } from "../engine/checkpoint/gateway.ts";
import { AlignmentCheck } from "./alignment-check.ts";
import { PROPERTIES } from "./checkers.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS } from "./spec.ts";

const options = {} as CheckpointOptions;
const barrier = (channel: number, checkpointId: number, now = 0): AlignmentEvent => ({ kind: "barrier", channel, checkpointId, options, now });
const cancel = (checkpointId: number, now = 0): AlignmentEvent => ({ kind: "cancel", checkpointId, now });
const end = (channel: number, now = 0): AlignmentEvent => ({ kind: "end-of-partition", channel, now });

/** Feeds one task's events (with the channels blocked after each) to a fresh check. */
function judge(steps: [AlignmentEvent, boolean[]][], attempt = 1): AlignmentCheck {
  const check = new AlignmentCheck();
  const o = check.startProcess();
  for (const [e, blocked] of steps) o.inputHandled!("Window#0", attempt, e, blocked);
  return check;
}

describe("tasks hold input channels back only while aligning a checkpoint", () => {
  it("accepts an aligned checkpoint, an abandoned one, a stale barrier after a newer one, an abort and an end of partition", () => {
    const check = judge([
      [barrier(0, 1), [true, false, false]],
      [barrier(1, 1), [true, true, false]],
      [barrier(2, 1), [false, false, false]], // aligned: snapshot, all released
      [barrier(1, 2), [false, true, false]],
      [barrier(0, 3), [true, false, false]], // 2 aborted upstream: 3 takes over, 2's block released
      [barrier(0, 2), [true, false, false]], // stale on channel 0: it still belongs to 3
      [cancel(2), [true, false, false]], // an older abort leaves 3 alone
      [end(1), [true, false, false]],
      [cancel(3), [false, false, false]],
    ]);
    expect(check.result()).toEqual({ property: PROPERTIES.alignment, valid: true, message: "9 barrier-handling events, 4 channels blocked: each only while its checkpoint was being aligned" });
  });

  it("names a block kept after an abort, after the alignment completed, and before any barrier", () => {
    expect(judge([[barrier(0, 4, 10), [true, false]], [cancel(4, 20), [true, false]]]).result().message).toBe(
      "Window#0 (attempt 1) at 20, after the abort of checkpoint 4: channel 0 was still blocked for checkpoint 4, which the task had heard was aborted (checkpoint 4)",
    );
    expect(judge([[barrier(0, 4), [true, false]], [barrier(1, 4, 5), [true, false]]]).result().message).toBe(
      "Window#0 (attempt 1) at 5, after barrier 4 on channel 1: channel 0 was still blocked for checkpoint 4, though every live channel had delivered its barrier: the alignment was complete",
    );
    expect(judge([[barrier(0, 4), [true, false]], [end(1, 7), [true, false]]]).result().message).toMatch(/after the end of channel 1: channel 0 was still blocked for checkpoint 4, though every live channel/);
    expect(judge([[barrier(0, 4), [false, true]]], 2).result().message).toBe("Window#0 (attempt 2) at 0, after barrier 4 on channel 0: channel 1 was blocked before any barrier came on it");
  });

  it("judges a restarted task afresh: its predecessor's barriers say nothing about it", () => {
    const check = new AlignmentCheck();
    const o = check.startProcess();
    o.inputHandled!("Window#0", 1, barrier(0, 5), [true, false]);
    o.inputHandled!("Window#0", 2, barrier(1, 6), [false, true]);
    expect(check.result().valid).toBe(true);
  });

  it("holds in swarm runs whose tasks align over several channels: a savepoint under unaligned checkpoints, an expiry mid-alignment", () => {
    const cases = [
      // The savepoint's barrier overtakes nothing and aligns; a periodic barrier arriving after it on the same channel is stale (the first false alarm of this check).
      ["sourceParallelism=2,windowParallelism=2,rescale=10000:1,unaligned=0", "", "48 barrier-handling events, 3 channels blocked"],
      ["sourceParallelism=3,windowParallelism=2,maxConcurrent=2", "slow@checkpoint.alignment#2[#0]+700000ms", "20 barrier-handling events, 10 channels blocked"],
    ];
    for (const [config, faults, seen] of cases) {
      const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 45736703, config: parseConfig(config), faults: parsePlan(faults) });
      expect(outcome).toEqual({ kind: "passed" });
      expect(run!.checks.find((c) => c.property === PROPERTIES.alignment)?.message).toBe(`${seen}: each only while its checkpoint was being aligned`);
    }
  });
});
