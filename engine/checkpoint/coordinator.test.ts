import { describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel.ts";
import { CheckpointConfig } from "../api/checkpoint-config.ts";
import { JobManagerCheckpointStorage, type StateHandle } from "../state/checkpoint-storage.ts";
import { CheckpointCoordinator, CheckpointFailureThresholdError, type CoordinatorHost } from "./coordinator.ts";
import { CheckpointStatsTracker } from "./stats.ts";

/** A coordinator with two tasks that acknowledge `ackDelay` ms after each trigger (never, if undefined). */
function harness(conf: Partial<CheckpointConfig>, ackDelay: number | undefined) {
  const kernel = new Kernel("coord", 0);
  const cfg = Object.assign(new CheckpointConfig(), { interval: 100 }, conf);
  const storage = new JobManagerCheckpointStorage();
  const stats = new CheckpointStatsTracker();
  const triggers: number[] = [];
  const completes: number[] = [];
  const failures: unknown[] = [];
  const tasks = ["t0", "t1"];
  const handle = (task: string): StateHandle => ({ task, vertex: "v", subtask: 0, file: task, bytes: 1 });
  const host: CoordinatorHost = {
    kernel,
    trace: () => {},
    fault: () => {},
    taskNames: () => tasks,
    triggerCheckpoint(id) {
      triggers.push(kernel.now());
      if (ackDelay === undefined) return;
      for (const t of tasks) {
        kernel.after(ackDelay, { run: (now) => void coord.acknowledge(t, id, storage.writeState(id, { task: t, vertex: "v", subtask: 0 }, new Uint8Array([1])), { task: t, ackTime: now, alignmentMs: 0, syncWallMs: 0, asyncWallMs: 0, stateBytes: 1 }, now) });
      }
      void handle;
    },
    notifyCheckpointComplete: () => void completes.push(kernel.now()),
    notifyCheckpointAborted: () => {},
    failJob: (e) => {
      failures.push(e);
      coord.onFailover(kernel.now());
      kernel.stop();
    },
    allSourcesFinishing: () => false,
  };
  const coord = new CheckpointCoordinator(cfg, storage, host, stats, 128);
  coord.start(0);
  return { kernel, coord, storage, stats, triggers, completes, failures };
}

describe("checkpoint coordinator (virtual time)", () => {
  it("triggers every interval", () => {
    const h = harness({}, 5);
    h.kernel.run(450);
    expect(h.triggers).toEqual([100, 200, 300, 400]);
    expect(h.completes).toEqual([105, 205, 305, 405]);
  });

  it("minPauseBetweenCheckpoints runs from the last completion to the next trigger", () => {
    const h = harness({ minPauseBetweenCheckpoints: 250 }, 10);
    h.kernel.run(1000);
    expect(h.triggers).toEqual([100, 360, 620, 880]);
  });

  it("maxConcurrentCheckpoints holds back triggers until one completes", () => {
    const h = harness({ maxConcurrentCheckpoints: 2 }, 350);
    h.kernel.run(600);
    expect(h.triggers).toEqual([100, 200, 450, 550]);
    const one = harness({ maxConcurrentCheckpoints: 1 }, 350);
    one.kernel.run(600);
    expect(one.triggers).toEqual([100, 450]);
  });

  it("aborts a checkpoint that exceeds checkpointTimeout, with the reason", () => {
    const h = harness({ checkpointTimeout: 50, tolerableCheckpointFailureNumber: 5 }, undefined);
    h.kernel.run(260);
    expect(h.stats.history.map((c) => [c.id, c.status, c.endTime])).toEqual([[1, "failed", 150], [2, "failed", 250]]);
    expect(h.stats.history[0].failureReason).toBe("Checkpoint expired before completing.");
    expect(h.failures).toEqual([]);
  });

  it("fails the job when consecutive failures exceed tolerableCheckpointFailureNumber", () => {
    const h = harness({ checkpointTimeout: 50, tolerableCheckpointFailureNumber: 2 }, undefined);
    h.kernel.run(10_000);
    expect(h.failures).toHaveLength(1);
    expect(h.failures[0]).toBeInstanceOf(CheckpointFailureThresholdError);
    expect(h.stats.counts().failed).toBe(3);
    expect(h.kernel.now()).toBe(350);
  });

  it("retains num-retained completed checkpoints and discards older ones", () => {
    const h = harness({ numRetained: 2 }, 5);
    h.kernel.run(550);
    expect(h.coord.completed).toEqual([4, 5]);
    expect(h.storage.completedIds()).toEqual([5, 4]);
  });

  it("answers late, duplicate and unknown acks with a result instead of throwing", () => {
    const h = harness({ checkpointTimeout: 50, tolerableCheckpointFailureNumber: 9 }, undefined);
    h.kernel.run(120);
    const s = { task: "t0", ackTime: 0, alignmentMs: 0, syncWallMs: 0, asyncWallMs: 0, stateBytes: 0 };
    const hd: StateHandle = { task: "t0", vertex: "v", subtask: 0, file: "t0", bytes: 0 };
    expect(h.coord.acknowledge("t0", 1, hd, s, 120)).toBe("ok");
    expect(h.coord.acknowledge("t0", 1, hd, s, 120)).toBe("duplicate");
    expect(h.coord.acknowledge("tX", 1, hd, s, 120)).toBe("unknown");
    h.kernel.run(160); // expired at 150
    expect(h.coord.acknowledge("t1", 1, hd, s, 160)).toBe("unknown");
  });
});
