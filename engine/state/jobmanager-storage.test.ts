import { describe, expect, it } from "vitest";
import { CheckpointReadError, JobManagerCheckpointStorage, type StateHandle } from "./checkpoint-storage.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);
const meta = (checkpointId: number, handles: StateHandle[]) => ({ checkpointId, timestamp: checkpointId * 1000, savepoint: false, maxParallelism: 128, handles });

// JobManager storage keeps one entry per checkpoint in an array ordered by id (issue 11): these
// pin what its two maps did before, for ids that come in any order.
describe("JobManagerCheckpointStorage", () => {
  it("keeps checkpoints written out of order, and lists the completed ones newest first", () => {
    const s = new JobManagerCheckpointStorage();
    const h3 = s.writeState(3, { task: "W#0", vertex: "W", subtask: 0 }, bytes(3));
    const h1 = s.writeState(1, { task: "W#0", vertex: "W", subtask: 0 }, bytes(1));
    const h2 = s.writeState(2, { task: "W#0", vertex: "W", subtask: 0 }, bytes(2));
    s.writeMetadata(meta(3, [h3]));
    s.writeMetadata(meta(2, [h2]));
    expect(s.completedIds()).toEqual([3, 2]);
    expect([s.isCompleted(1), s.isCompleted(2), s.holds(1), s.holds(4)]).toEqual([false, true, true, false]);
    expect([...s.readState(1, h1), ...s.readState(2, h2), ...s.readState(3, h3)]).toEqual([1, 2, 3]);
    expect(s.readMetadata(3).handles).toEqual([h3]);
  });

  it("replaces a subtask's state written again, keeps the others, and forgets a discarded checkpoint", () => {
    const s = new JobManagerCheckpointStorage();
    const a = s.writeState(7, { task: "W#0", vertex: "W", subtask: 0 }, bytes(1));
    const b = s.writeState(7, { task: "W#1", vertex: "W", subtask: 1 }, bytes(2));
    const a2 = s.writeState(7, { task: "W#0", vertex: "W", subtask: 0 }, bytes(9));
    expect(a2.file).toBe(a.file);
    expect([...s.readState(7, a2), ...s.readState(7, b)]).toEqual([9, 2]);
    s.writeMetadata(meta(7, [a2, b]));
    s.writeState(8, { task: "W#0", vertex: "W", subtask: 0 }, bytes(5));
    s.discard(7);
    expect([s.holds(7), s.holds(8), s.completedIds()]).toEqual([false, true, []]);
    expect(() => s.readMetadata(7)).toThrow(CheckpointReadError);
    expect(() => s.readState(7, b)).toThrow(/state W-1 missing/);
  });
});
