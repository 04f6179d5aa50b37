import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { CheckpointConfig } from "../api/checkpoint-config.ts";
import { JobManagerCheckpointStorage, type StateHandle } from "../state/checkpoint-storage.ts";
import { abort, acknowledge, complete, isFullyAcknowledged, pendingCheckpoint, totalTasks, type CompletedCheckpoint } from "./checkpoint.ts";
import { CompletedCheckpointStore } from "./completed-store.ts";
import { FailureManager } from "./failure-manager.ts";
import { countsAsCheckpointFailure, CheckpointFailureReason, type CheckpointFailureReasonKey } from "./failure-reason.ts";
import { TriggerPolicy } from "./trigger-policy.ts";
import { CheckpointStatsTracker } from "./stats.ts";

const handle = (task: string, parent?: number): StateHandle => ({ task, vertex: "v", subtask: 0, file: task, bytes: 1, ...(parent !== undefined ? { parent } : {}) });
const NONE: ReadonlyMap<number, number> = new Map();
const basesOf = (bases: number[]): ReadonlyMap<number, number> => new Map(bases.map((b, i) => [1_000 + i, b]));
const stats = (task: string) => ({ task, ackTime: 0, alignmentMs: 0, syncWallMs: 0, asyncWallMs: 0, stateBytes: 1 });

describe("a pending checkpoint", () => {
  it("completes when every task acknowledged once; late, duplicate and unknown acks are answered", () => {
    const p = pendingCheckpoint({ id: 3, triggerTime: 10, final: false, savepoint: false }, ["a", "b"]);
    expect(totalTasks(p)).toBe(2);
    expect(acknowledge(p, "a", { handle: handle("a", 1), stats: stats("a") })).toBe("ok");
    expect(acknowledge(p, "a", { handle: handle("a"), stats: stats("a") })).toBe("duplicate");
    expect(acknowledge(p, "x", { handle: handle("x"), stats: stats("x") })).toBe("unknown");
    expect(isFullyAcknowledged(p)).toBe(false);
    expect(acknowledge(p, "b", { handle: handle("b", 2), stats: stats("b") })).toBe("ok");
    expect(isFullyAcknowledged(p)).toBe(true);
    expect(complete(p, 20)).toEqual({ id: 3, triggerTime: 10, final: false, savepoint: false, status: "completed", endTime: 20, parents: [1, 2] });
    expect(abort(p, 30, "CHECKPOINT_EXPIRED")).toEqual({ id: 3, triggerTime: 10, final: false, savepoint: false, status: "aborted", endTime: 30, reason: "CHECKPOINT_EXPIRED" });
  });

  test.prop([fc.array(fc.constantFrom("a", "b", "c", "d", "x"), { maxLength: 20 })])("in any order of acks, complete exactly when each task acked; each ack is ok once", (acks) => {
    const tasks = ["a", "b", "c", "d"];
    const p = pendingCheckpoint({ id: 1, triggerTime: 0, final: false, savepoint: false }, tasks);
    const oks = new Set<string>();
    for (const t of acks) {
      const r = acknowledge(p, t, { handle: handle(t), stats: stats(t) });
      expect(r).toBe(!tasks.includes(t) ? "unknown" : oks.has(t) ? "duplicate" : "ok");
      oks.add(t);
      expect(isFullyAcknowledged(p)).toBe(tasks.every((x) => oks.has(x)));
    }
  });
});

describe("the trigger policy", () => {
  const policy = (c: Partial<CheckpointConfig>) => new TriggerPolicy(Object.assign(new CheckpointConfig(), { interval: 100 }, c));

  it("triggers on the interval; refuses over max-concurrent and within the minimum pause; savepoints ignore both", () => {
    const p = policy({ maxConcurrentCheckpoints: 2, minPauseBetweenCheckpoints: 50, checkpointTimeout: 70 });
    p.start(0);
    expect(p.nextPeriodic()).toBe(100);
    expect(p.decide(100, 1, "periodic")).toEqual({ kind: "trigger" });
    expect(p.decide(100, 2, "periodic")).toEqual({ kind: "refused", reason: "TOO_MANY_CONCURRENT_CHECKPOINTS" });
    expect(p.decide(100, 2, "final")).toEqual({ kind: "refused", reason: "TOO_MANY_CONCURRENT_CHECKPOINTS" });
    expect(p.decide(100, 9, "savepoint")).toEqual({ kind: "trigger" });
    p.triggered(100);
    p.completed(180);
    expect(p.nextPeriodic()).toBe(200);
    expect(p.decide(200, 0, "periodic")).toEqual({ kind: "refused", reason: "MINIMUM_TIME_BETWEEN_CHECKPOINTS", retryAt: 230 });
    expect(p.decide(200, 0, "final")).toEqual({ kind: "trigger" });
    expect(p.decide(230, 0, "periodic")).toEqual({ kind: "trigger" });
    expect(p.expiresAt(100)).toBe(170);
  });

  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 300 }), fc.array(fc.record({ at: fc.integer({ min: 0, max: 1000 }), pending: fc.integer({ min: 0, max: 5 }), completedAt: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }) }), { maxLength: 30 })])(
    "never triggers a periodic checkpoint over the cap or inside the pause; a refusal for the pause names when it ends",
    (max, pause, steps) => {
      const p = policy({ maxConcurrentCheckpoints: max, minPauseBetweenCheckpoints: pause });
      p.start(0);
      let lastCompletion = -Infinity;
      for (const s of steps) {
        if (s.completedAt !== undefined) {
          p.completed(s.completedAt);
          lastCompletion = s.completedAt;
        }
        const d = p.decide(s.at, s.pending, "periodic");
        if (d.kind === "trigger") {
          expect(s.pending).toBeLessThan(max);
          expect(s.at).toBeGreaterThanOrEqual(lastCompletion + pause);
        } else if (d.reason === "MINIMUM_TIME_BETWEEN_CHECKPOINTS") expect(d.retryAt).toBe(lastCompletion + pause);
        else expect(s.pending).toBeGreaterThanOrEqual(max);
      }
    },
  );
});

describe("the failure manager", () => {
  it("counts what the checkpoint did wrong, not what happened around it", () => {
    const counted = (Object.keys(CheckpointFailureReason) as CheckpointFailureReasonKey[]).filter(countsAsCheckpointFailure);
    expect(counted).toEqual(["CHECKPOINT_EXPIRED", "CHECKPOINT_DECLINED", "IO_EXCEPTION", "FINALIZE_CHECKPOINT_FAILURE"]);
  });

  it("fails the job on the (tolerable+1)-th consecutive counted failure; a success, a savepoint or an old checkpoint resets or does not count", () => {
    const f = new FailureManager(1);
    expect(f.onFailure(1, "CHECKPOINT_EXPIRED", false)).toBeUndefined();
    expect(f.onFailure(1, "CHECKPOINT_DECLINED", false)).toBeUndefined(); // the same checkpoint counts once
    expect(f.onFailure(2, "CHECKPOINT_SUBSUMED", false)).toBeUndefined();
    expect(f.onFailure(3, "IO_EXCEPTION", true)).toBeUndefined(); // a savepoint
    f.onSuccess(5);
    expect(f.consecutiveFailures).toBe(0);
    expect(f.onFailure(4, "CHECKPOINT_EXPIRED", false)).toBeUndefined(); // older than the last success
    expect(f.onFailure(6, "CHECKPOINT_EXPIRED", false)).toBeUndefined();
    const e = f.onFailure(7, "IO_EXCEPTION", false);
    expect(e?.message).toBe("Exceeded checkpoint tolerable failure threshold (1): checkpoint 7 failed: An exception occurred while writing checkpoint state or metadata.");
  });

  const reason = fc.constantFrom(...(Object.keys(CheckpointFailureReason) as CheckpointFailureReasonKey[]));
  test.prop([fc.integer({ min: 0, max: 3 }), fc.array(fc.oneof(fc.record({ ok: fc.constant(true as const), id: fc.integer({ min: 1, max: 20 }) }), fc.record({ ok: fc.constant(false as const), id: fc.integer({ min: 1, max: 20 }), reason, savepoint: fc.boolean() })), { maxLength: 40 })])(
    "fails exactly when the distinct counted failures of checkpoints newer than the last success exceed the tolerance (the reference)",
    (tolerable, events) => {
      const f = new FailureManager(tolerable);
      let last = 0;
      let counted = new Set<number>();
      for (const e of events) {
        if (e.ok) {
          if (e.id > last) {
            last = e.id;
            counted = new Set();
          }
          f.onSuccess(e.id);
          continue;
        }
        const counts = !e.savepoint && countsAsCheckpointFailure(e.reason) && e.id > last && !counted.has(e.id);
        if (counts) counted.add(e.id);
        const fail = f.onFailure(e.id, e.reason, e.savepoint);
        expect(fail !== undefined).toBe(counts && counted.size > tolerable);
        if (fail) counted = new Set();
      }
    },
  );
});

describe("the completed-checkpoint store", () => {
  const done = (id: number, parents: number[] = [], savepoint = false): CompletedCheckpoint => ({ id, triggerTime: 0, final: false, savepoint, status: "completed", endTime: 0, parents });
  const put = (s: JobManagerCheckpointStorage, id: number, parents: number[] = []) =>
    s.writeMetadata({ checkpointId: id, timestamp: 0, savepoint: false, maxParallelism: 128, handles: parents.length ? parents.map((p) => handle("t", p)) : [handle("t")] });

  it("retains num-retained checkpoints, keeps incremental parents, never retires a savepoint", () => {
    const storage = new JobManagerCheckpointStorage();
    const store = new CompletedCheckpointStore(storage, 1);
    for (const [id, parents] of [[1, []], [2, [1]], [3, [1]], [4, []]] as [number, number[]][]) {
      put(storage, id, parents);
      store.add(done(id, parents), NONE);
    }
    expect(store.completed).toEqual([4]);
    expect(storage.completedIds()).toEqual([4]);
    store.registerSavepoint(5, new JobManagerCheckpointStorage());
    store.add(done(5, [], true), NONE);
    expect(store.latest()).toBe(4);
    expect(store.storageFor(5)).not.toBe(storage);
    // A savepoint that does not stop the job commits nothing, so a failover does not restore from it; a stop's does.
    expect(store.latestSavepoint()?.id).toBe(5);
    expect(store.restorableSavepoint()).toBeUndefined();
    store.registerSavepoint(6, new JobManagerCheckpointStorage());
    store.add(done(6, [], true), NONE, true);
    expect(store.restorableSavepoint()?.id).toBe(6);
  });

  it("completes a checkpoint even when discarding the one it subsumes fails (the failure is traced, not thrown)", () => {
    const storage = new JobManagerCheckpointStorage();
    const lines: string[] = [];
    const store = new CompletedCheckpointStore(storage, 1, (l) => lines.push(l));
    const discard = storage.discard.bind(storage);
    let failure: Error = Object.assign(new Error("EIO: i/o error, fsync '/flinch/checkpoints/job'"), { code: "EIO" }); // as the Fs throws it
    storage.discard = (id: number) => {
      discard(id);
      throw failure;
    };
    put(storage, 1);
    store.add(done(1), NONE);
    put(storage, 2);
    expect(() => store.add(done(2), NONE)).not.toThrow();
    expect(store.latest()).toBe(2);
    expect(store.completed).toEqual([2]);
    expect(lines).toEqual(["coordinator discard cp=1 failed: EIO: i/o error, fsync '/flinch/checkpoints/job'"]);
    // What the file system did not refuse is a bug, and is not swallowed as housekeeping.
    failure = new TypeError("Cannot read properties of undefined");
    put(storage, 3);
    expect(() => store.add(done(3), NONE)).toThrow(TypeError);
  });

  // Out-of-order completion, incremental chains and pending checkpoints' bases, against the rule
  // "a checkpoint is on storage iff retained, or reachable by parents from a retained or pending base".
  test.prop([fc.integer({ min: 1, max: 3 }), fc.array(fc.record({ parent: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }), pendingBase: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }) }), { minLength: 1, maxLength: 25 })])(
    "deletes exactly what no retained or pending chain can reach",
    (retained, steps) => {
      const storage = new JobManagerCheckpointStorage();
      const store = new CompletedCheckpointStore(storage, retained);
      const parentsOf = new Map<number, number[]>();
      const ids: number[] = [];
      let pendingBases: number[] = [];
      steps.forEach((s, i) => {
        const id = i + 1;
        // A delta against a checkpoint still on storage (that is all a task is ever told to use).
        const live = store.live();
        const parent = s.parent !== undefined && live.length ? live[s.parent % live.length] : undefined;
        const parents = parent === undefined ? [] : [parent];
        parentsOf.set(id, parents);
        put(storage, id, parents);
        // As the coordinator passes them: pending checkpoint id -> its base.
        store.add(done(id, parents), basesOf(pendingBases));
        ids.push(id);
        const expectOnStorage = (bases: number[]) => {
          const keep = new Set<number>();
          const walk = (x: number) => {
            if (keep.has(x)) return;
            keep.add(x);
            for (const p of parentsOf.get(x) ?? []) walk(p);
          };
          for (const x of ids.slice(-retained)) walk(x);
          for (const b of bases) walk(b);
          expect(storage.completedIds().sort((a, b) => a - b)).toEqual([...keep].sort((a, b) => a - b));
        };
        // The bases still pending at this completion keep their chains too.
        expectOnStorage(pendingBases);
        // A pending checkpoint's base: any checkpoint still on storage (with maxConcurrent > 1, often older than the newest).
        const onStorage = store.live();
        pendingBases = s.pendingBase !== undefined && onStorage.length ? [onStorage[s.pendingBase % onStorage.length]] : [];
        store.release(basesOf(pendingBases));
        expectOnStorage(pendingBases);
      });
    },
  );
});

describe("JobManager checkpoint storage's metadata", () => {
  it("is kept as written, and neither the writer's array nor a reader's copy can change it afterwards", () => {
    const s = new JobManagerCheckpointStorage();
    const handles = [handle("a"), handle("b", 1)];
    s.writeMetadata({ checkpointId: 2, timestamp: 5, savepoint: false, maxParallelism: 128, handles });
    handles.push(handle("c"));
    const read = s.readMetadata(2);
    expect(read).toEqual({ checkpointId: 2, timestamp: 5, savepoint: false, maxParallelism: 128, handles: [handle("a"), handle("b", 1)] });
    read.handles.pop();
    (read.handles[0] as { bytes: number }).bytes = 99;
    expect(s.readMetadata(2).handles).toEqual([handle("a"), handle("b", 1)]);
    expect(s.completedIds()).toEqual([2]);
    s.discard(2);
    expect(() => s.readMetadata(2)).toThrow(/no metadata/);
  });
});

describe("checkpoint statistics", () => {
  it("fold each acknowledgement into the row: maxima of the durations, sums of bytes and channel-state records", () => {
    const t = new CheckpointStatsTracker();
    const p = pendingCheckpoint({ id: 1, triggerTime: 0, final: false, savepoint: false }, ["a", "b", "c"]);
    t.triggered(p);
    const acks = [
      { task: "a", ackTime: 3, alignmentMs: 4, syncWallMs: 0.5, asyncWallMs: 2, stateBytes: 10 },
      { task: "b", ackTime: 4, alignmentMs: 1, syncWallMs: 1.5, asyncWallMs: 1, stateBytes: 20, unaligned: true, channelStateRecords: 7 },
      { task: "c", ackTime: 5, alignmentMs: 2, syncWallMs: 0.1, asyncWallMs: 3, stateBytes: 30, unaligned: true, channelStateRecords: 5 },
    ];
    for (const a of acks) {
      acknowledge(p, a.task, { handle: handle(a.task), stats: a });
      t.acknowledged(p, a);
    }
    t.completed(1, 9);
    expect(t.history).toEqual([{ id: 1, status: "completed", final: false, savepoint: false, triggerTime: 0, endTime: 9, endToEndMs: 9, alignmentMs: 4, syncWallMs: 1.5, asyncWallMs: 3, acknowledged: 3, total: 3, stateBytes: 60, channelStateRecords: 12, unaligned: true }]);
    // An ended checkpoint's row no longer changes.
    t.failed({ id: 1, triggerTime: 0, final: false, savepoint: false, status: "aborted", endTime: 10, reason: "CHECKPOINT_EXPIRED" });
    expect(t.history[0].status).toBe("completed");
  });

  it("keep every row, in trigger order, past the columns' first size (they double)", () => {
    const t = new CheckpointStatsTracker();
    for (let id = 1; id <= 1_000; id++) {
      const p = pendingCheckpoint({ id, triggerTime: id * 10, final: false, savepoint: false }, ["a"]);
      t.triggered(p);
      acknowledge(p, "a", { handle: handle("a"), stats: { ...stats("a"), stateBytes: id } });
      t.acknowledged(p, { ...stats("a"), stateBytes: id });
      if (id % 7 === 0) t.failed({ id, triggerTime: id * 10, final: false, savepoint: false, status: "aborted", endTime: id * 10 + 3, reason: "CHECKPOINT_EXPIRED" });
      else t.completed(id, id * 10 + 5);
    }
    expect(t.history.map((c) => c.id)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(t.history[998]).toMatchObject({ id: 999, status: "completed", triggerTime: 9_990, endTime: 9_995, endToEndMs: 5, stateBytes: 999, acknowledged: 1, total: 1 });
    expect(t.history[699]).toMatchObject({ id: 700, status: "failed", endToEndMs: 3, failureReasonKey: "CHECKPOINT_EXPIRED" });
    expect(t.counts()).toEqual({ completed: 858, failed: 142, inProgress: 0 });
  });
});
