import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../../api/environment.ts";
import { RestartStrategies } from "../../api/restart-strategies.ts";
import { JobManagerCheckpointStorage } from "../../state/checkpoint-storage.ts";
import { FailingSource, type Record2 } from "../../itcase/failing-source.ts";
import { CollectSink, CollectStore } from "./collect-sink.ts";

const quiet = { warn() {}, info() {} };

/** FailingSource (fails once, half way) into a CollectSink at parallelism 2, checkpoints every 100 virtual ms. */
function run(keepTrace: boolean) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: "collect-trace", log: quiet, keepTrace });
  env.setParallelism(2);
  env.enableCheckpointing(100);
  env.getCheckpointConfig().setCheckpointStorage(new JobManagerCheckpointStorage());
  env.configureRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  const store = new CollectStore<Record2>();
  env.addSource(new FailingSource(3, 600), "FailingSource").rebalance().sinkTo(new CollectSink(store));
  return { r: env.executeSync("collect-trace"), store };
}

describe("CollectSink's trace entries", () => {
  it("say which transaction was pre-committed and committed, per subtask and attempt, as numbers folded like lines", () => {
    const { r, store } = run(true);
    expect(r.status, r.failureReason).toBe("FINISHED");
    expect(r.restarts).toBe(1);
    expect(store.committed).toHaveLength(3 * 600);

    // The sink's subtasks by their short ids ("v1.0 is Sink: Collect#0").
    const lines = r.trace.map((l) => l.trimEnd()); // kept lines end with "\n"
    const sinkIds = lines.map((l) => / (v\d+\.\d+) is .*Collect.*#\d+$/.exec(l)?.[1]).filter((x) => x !== undefined);
    expect(sinkIds).toHaveLength(4); // 2 subtasks x 2 attempts, the ids the same in each attempt
    type Txn = { attempt: number; tid: string; seq: number; cp: number };
    const pre: Txn[] = [];
    const committed: Txn[] = [];
    const completed = new Set<number>();
    let attempt = 0;
    for (const l of lines) {
      if (/ restore from /.test(l)) attempt++;
      const c = / coordinator complete cp=(\d+)$/.exec(l);
      if (c) completed.add(Number(c[1]));
      const m = /^\d+ (v\d+\.\d+) sink\.(pre-commit|commit) seq=(\d+) cp=(\d+)$/.exec(l);
      if (!m) {
        expect(l, "no sink line in the old text form").not.toMatch(/sink\.(pre-)?commit \d+-\d+-\d+@/);
        continue;
      }
      const t = { attempt, tid: m[1], seq: Number(m[3]), cp: Number(m[4]) };
      expect(sinkIds).toContain(t.tid);
      if (m[2] === "pre-commit") pre.push(t);
      else {
        // Committed only after it was pre-committed in this attempt and its checkpoint completed.
        expect(pre, JSON.stringify(t)).toContainEqual(t);
        expect(completed.has(t.cp), `cp ${t.cp} completed before its commit`).toBe(true);
        committed.push(t);
      }
    }
    // Per subtask and attempt, the sequence numbers run 0, 1, 2, ... with ascending checkpoints.
    for (const a of [0, 1]) {
      for (const tid of new Set(sinkIds)) {
        const mine = pre.filter((t) => t.attempt === a && t.tid === tid);
        expect(mine.length, `${tid} attempt ${a}`).toBeGreaterThan(1);
        expect(mine.map((t) => t.seq)).toEqual(mine.map((_t, i) => i));
        expect(mine.every((t, i) => i === 0 || t.cp > mine[i - 1].cp)).toBe(true);
      }
    }
    // Every commit the store counted during the run is one commit line (recover commits untraced, then none left pending).
    expect(new Set(committed.map((t) => JSON.stringify(t))).size).toBe(committed.length);
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThanOrEqual(store.commits);
    expect(store.pendingCount()).toBe(0);
  });

  it("the trace hash is the same whether lines are kept or not", () => {
    const kept = run(true).r;
    const plain = run(false).r;
    expect(plain.trace).toEqual([]);
    expect(plain.traceHash).toBe(kept.traceHash);
    expect(plain.traceLength).toBe(kept.traceLength);
  });
});
