import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel.ts";
import { EMPTY_SNAPSHOT, type StreamOperator } from "../runtime/operator.ts";
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage, type CheckpointStorage } from "../state/checkpoint-storage.ts";
import { NodeFs } from "../state/fs.ts";
import { FULL_SNAPSHOTS } from "./snapshot-strategy.ts";
import { SubtaskCheckpointer, type CheckpointedTask, type CheckpointerHost } from "./subtask-checkpointer.ts";
import type { CoordinatorGateway } from "./gateway.ts";

const ASYNC = 7, LATENCY = 3;

/** One task with one stateless operator, a gateway that records when and how each ack came. */
function setup(storage: CheckpointStorage) {
  const kernel = new Kernel("ack", 1_000);
  const acks: { how: "sent" | "arrived"; at: number; id: number }[] = [];
  const gateway: CoordinatorGateway = {
    acknowledge: (_t, id) => (acks.push({ how: "sent", at: kernel.now(), id }), "ok"),
    acknowledgeArrived: (_t, id) => (acks.push({ how: "arrived", at: kernel.now(), id }), "ok"),
    decline: () => {},
  };
  const host: CheckpointerHost = {
    kernel,
    fault: () => {},
    slowdown: () => 0,
    trace: () => {},
    wallMs: () => 0,
    asyncDelay: () => ASYNC,
    ackLatency: () => LATENCY,
    storageFor: () => storage,
    coordinatorGateway: gateway,
  };
  const op = { snapshotState: () => EMPTY_SNAPSHOT } as unknown as StreamOperator;
  const task: CheckpointedTask = {
    name: "map#0", vertexId: 1, vertexName: "map", subtask: 0, chain: [op], uids: ["map"],
    isRunning: () => true, emitBarrier: () => {}, fail: (e) => { throw e; },
  };
  return { kernel, acks, checkpointer: new SubtaskCheckpointer(task, host, FULL_SNAPSHOTS) };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("a task's acknowledgement", () => {
  it("with in-memory storage carries the state: one event, after the async phase and the RPC latency, delivered on arrival", () => {
    const { kernel, acks, checkpointer } = setup(new JobManagerCheckpointStorage());
    checkpointer.checkpointState(1, { final: false, savepoint: false }, 0, false);
    expect(kernel.pending()).toBe(1);
    kernel.run();
    expect(acks).toEqual([{ how: "arrived", at: 1_000 + ASYNC + LATENCY, id: 1 }]);
  });

  it("with durable storage is sent after the write, so its own RPC can still be lost to a crash", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-ack-"));
    dirs.push(dir);
    const { kernel, acks, checkpointer } = setup(new FileSystemCheckpointStorage(path.join(dir, "ck"), new NodeFs()));
    checkpointer.checkpointState(1, { final: false, savepoint: false }, 0, false);
    kernel.run();
    expect(acks).toEqual([{ how: "sent", at: 1_000 + ASYNC, id: 1 }]);
  });

  it("of an unaligned checkpoint waits for the channel state, then is sent", () => {
    const { kernel, acks, checkpointer } = setup(new JobManagerCheckpointStorage());
    checkpointer.checkpointState(1, { final: false, savepoint: false }, 0, true);
    kernel.run();
    expect(acks).toEqual([]);
    kernel.after(20, { run: () => checkpointer.channelStateComplete(1) });
    kernel.run();
    expect(acks).toEqual([{ how: "sent", at: 1_000 + ASYNC + 20, id: 1 }]);
  });
});
