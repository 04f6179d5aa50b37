import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { WatermarkStrategy } from "../api/watermark-strategy.ts";
import { OutputTag, TumblingEventTimeWindows } from "../api/windows.ts";
import { ListSource } from "../connectors/collection/list-source.ts";
import { CollectSink, CollectStore } from "../connectors/sinks/collect-sink.ts";
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage, type CheckpointStorage, type StateHandle } from "../state/checkpoint-storage.ts";
import { NodeFs } from "../state/fs.ts";
import { InjectedCrash, type FaultInjector } from "./faults.ts";
import { CheckpointUnavailableError, loadLatestValid } from "./restore.ts";

interface Ev {
  k: string;
  t: number;
  v: bigint;
}
// Two splits over 5 minutes of event time, arriving as they happen.
const lists: Ev[][] = [0, 1].map((s) => Array.from({ length: 300 }, (_, i) => ({ k: `k${(i * 7 + s) % 5}`, t: i * 1000 + s * 300, v: BigInt(i + s) })));

/** Fails the n-th state write with an EIO, as a full or failing disk would. */
class FailingStorage extends JobManagerCheckpointStorage {
  writes = 0;
  constructor(private readonly failAt: number) {
    super();
  }
  override writeState(id: number, h: Omit<StateHandle, "file" | "bytes">, payload: Uint8Array): StateHandle {
    if (++this.writes === this.failAt) throw Object.assign(new Error(`EIO: i/o error, write 'chk-${id}/${h.vertex}-${h.subtask}'`), { code: "EIO" });
    return super.writeState(id, h, payload);
  }
}

function run(storage: CheckpointStorage, faults?: FaultInjector, conf: Record<string, string | number | boolean> = {}) {
  const store = new CollectStore<unknown>();
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 9, log: { warn() {}, info() {} }, world: { faults }, configuration: { "execution.checkpointing.interval": "10 s", "execution.checkpointing.tolerable-failed-checkpoints": 1, ...conf } });
  env.setParallelism(2);
  env.getCheckpointConfig().setCheckpointStorage(storage);
  env.fromSource(new ListSource(lists, (e) => e.t, (e) => e.t), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
    .keyBy((e) => e.k).window(TumblingEventTimeWindows.of(60_000)).sum("v").sinkTo(new CollectSink(store));
  const r = env.executeSync("protocol");
  return { r, committed: [...store.committed].map((x) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? String(v) : v))).sort() };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("the checkpoint protocol in a running job", () => {
  const clean = run(new JobManagerCheckpointStorage());

  it("issue 9 bug 5: an I/O error in the async phase declines the checkpoint (IO_EXCEPTION); the task is not failed over", () => {
    const { r, committed } = run(new FailingStorage(5));
    expect(r.status).toBe("FINISHED");
    const failed = r.checkpoints.filter((c) => c.status === "failed");
    expect(failed.map((c) => c.failureReasonKey)).toEqual(["IO_EXCEPTION"]);
    expect(failed[0].failureReason).toMatch(/^An exception occurred while writing checkpoint state or metadata\. \(.*#\d: EIO: i\/o error, write/);
    expect(r.failures).toEqual([]);
    expect(r.restarts).toBe(0);
    expect(committed).toEqual(clean.committed);
  });

  it("issue 9 bug 5: a task failure aborts the checkpoint it had not acknowledged as TASK_FAILURE (a slow async phase keeps it pending)", () => {
    let crashed = false;
    const faults: FaultInjector = {
      check(site) {
        if (!crashed && site.point === "task.process" && site.task.startsWith("Window") && site.time > 20_000) {
          crashed = true;
          throw new InjectedCrash(site, 0);
        }
      },
      slowdown: (site) => (site.point === "checkpoint.async-write" && site.task.startsWith("Window") && site.checkpointId === 2 ? 5_000 : 0),
    };
    const { r, committed } = run(new JobManagerCheckpointStorage(), faults);
    expect(r.status).toBe("FINISHED");
    expect(r.failures).toHaveLength(1);
    expect(r.checkpoints.find((c) => c.id === 2)?.failureReasonKey).toBe("TASK_FAILURE");
    expect(committed).toEqual(clean.committed);
  });

  it("unaligned checkpoints give the same committed output, and a slow alignment past the timeout goes unaligned", () => {
    const un = run(new JobManagerCheckpointStorage(), undefined, { "execution.checkpointing.unaligned": true });
    expect(un.committed).toEqual(clean.committed);
    const slow: FaultInjector = { check() {}, slowdown: (s) => (s.point === "checkpoint.alignment" && s.task === "Window(sum)#0" ? 40 : 0) };
    const timed = run(new JobManagerCheckpointStorage(), slow, { "execution.checkpointing.unaligned": true, "execution.checkpointing.aligned-checkpoint-timeout": "20 ms" });
    expect(timed.committed).toEqual(clean.committed);
    expect(timed.r.checkpoints.every((c) => c.status === "completed")).toBe(true);
    // Aligned by default; every checkpoint whose alignment at Window#0 outlasted 20 ms went unaligned at 20 ms.
    expect(clean.r.checkpoints.some((c) => c.unaligned)).toBe(false);
    // Unaligned from the first barrier, except the final checkpoint (aligned, FLIP-147).
    expect(un.r.checkpoints.every((c) => (c.final ? !c.unaligned : c.unaligned && c.alignmentMs === 0))).toBe(true);
    const switched = timed.r.checkpoints.filter((c) => c.unaligned);
    expect(switched.length).toBeGreaterThan(0);
    for (const c of switched) expect(c.alignmentMs).toBe(20);
    for (const c of timed.r.checkpoints) expect(c.alignmentMs).toBeLessThanOrEqual(20);
  });

  it("issue 13: a checkpoint skipped as corrupt is logged with the reason on the job's log", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-restore-"));
    dirs.push(dir);
    run(new FileSystemCheckpointStorage(dir, new NodeFs()), undefined, { "execution.checkpointing.num-retained": 3 });
    const storage = new FileSystemCheckpointStorage(path.join(dir, "protocol-9"), new NodeFs()); // the job's own directory
    const [newest, older] = storage.completedIds();
    const meta = path.join(storage.dir, `chk-${newest}`, "_metadata");
    fs.writeFileSync(meta, fs.readFileSync(meta).subarray(0, 10)); // truncated
    const warnings: string[] = [];
    const point = loadLatestValid(storage, 128, undefined, { warn: (m) => void warnings.push(m) });
    expect(point?.checkpointId).toBe(older);
    expect(point?.skipped.map((s) => s.checkpointId)).toEqual([newest]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^checkpoint chk-${newest} skipped: .*_metadata`));
  });

  it("a transient read error (EIO) on the newest checkpoint fails the restore instead of skipping to an older one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-restore-"));
    dirs.push(dir);
    run(new FileSystemCheckpointStorage(dir, new NodeFs()), undefined, { "execution.checkpointing.num-retained": 3 });
    let failNext = true;
    class EioOnce extends NodeFs {
      override readFile(p: string): Uint8Array {
        if (failNext && p.endsWith(".state")) {
          failNext = false;
          throw Object.assign(new Error(`EIO: i/o error, read '${p}'`), { code: "EIO" });
        }
        return super.readFile(p);
      }
    }
    const storage = new FileSystemCheckpointStorage(path.join(dir, "protocol-9"), new EioOnce());
    const [newest] = storage.completedIds();
    const warnings: string[] = [];
    const err = (() => {
      try {
        loadLatestValid(storage, 128, undefined, { warn: (m) => void warnings.push(m) });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CheckpointUnavailableError);
    expect((err as CheckpointUnavailableError).failure).toMatchObject({ kind: "transient", checkpointId: newest });
    expect(warnings).toEqual([]);
    // The next attempt reads it whole: the same checkpoint, nothing skipped.
    const point = loadLatestValid(storage, 128);
    expect(point?.checkpointId).toBe(newest);
    expect(point?.skipped).toEqual([]);
  });
});

describe("two operators of one name", () => {
  it("each has its own tasks: every checkpoint waits for both sinks, and each sink's transactions are its own after a restore", () => {
    // The main output and the late side output both go to a sink named "Sink: Collect".
    const faults: FaultInjector = {
      check(site) {
        if (site.point === "task.process" && site.task.startsWith("Window") && site.time > 150_000 && !crashedOnce.done) {
          crashedOnce.done = true;
          throw new InjectedCrash(site, 0);
        }
      },
    };
    const crashedOnce = { done: false };
    const main = new CollectStore<unknown>(), late = new CollectStore<unknown>();
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 3, log: { warn() {}, info() {} }, world: { faults }, configuration: { "execution.checkpointing.interval": "10 s" } });
    const LATE = new OutputTag<unknown>("late");
    // Out of order by up to 5 s with no allowance: some records are late.
    const shuffled = lists.map((l) => l.map((e, i) => ({ ...e, t: e.t - (i % 3 === 0 ? 5_000 : 0) })));
    const sums = env.fromSource(new ListSource(shuffled, (e) => e.t, (e) => e.t + 5_000), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
      .keyBy((e) => e.k).window(TumblingEventTimeWindows.of(60_000)).sideOutputLateData(LATE).sum("v");
    sums.sinkTo(new CollectSink(main));
    sums.getSideOutput(LATE).sinkTo(new CollectSink(late));
    const r = env.executeSync("same-names");
    expect(r.status).toBe("FINISHED");
    expect(r.plan.filter((l) => l.includes("Sink: Collect"))).toEqual(["#2 Sink: Collect (parallelism 1) <- FORWARD from #1", "#3 Sink: Collect (2) (parallelism 1) <- FORWARD[late] from #1"]);
    expect(r.restarts).toBe(1);
    const done = r.checkpoints.filter((c) => c.status === "completed");
    expect(done.length).toBeGreaterThan(3);
    for (const c of done) expect([c.acknowledged, c.total]).toEqual([4, 4]);
    // Exactly once on both outputs: the same as an uncrashed run.
    const again = (() => {
      const m = new CollectStore<unknown>(), l = new CollectStore<unknown>();
      const e2 = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 3, log: { warn() {}, info() {} }, configuration: { "execution.checkpointing.interval": "10 s" } });
      const s2 = e2.fromSource(new ListSource(shuffled, (e) => e.t, (e) => e.t + 5_000), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
        .keyBy((e) => e.k).window(TumblingEventTimeWindows.of(60_000)).sideOutputLateData(LATE).sum("v");
      s2.sinkTo(new CollectSink(m));
      s2.getSideOutput(LATE).sinkTo(new CollectSink(l));
      e2.executeSync("same-names");
      return { m: m.committed.length, l: l.committed.length };
    })();
    expect(again.l).toBeGreaterThan(0);
    expect({ m: main.committed.length, l: late.committed.length }).toEqual(again);
  });
});
