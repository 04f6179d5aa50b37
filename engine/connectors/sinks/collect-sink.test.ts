import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../../api/environment.ts";
import { RestartStrategies } from "../../api/restart-strategies.ts";
import { JobManagerCheckpointStorage } from "../../state/checkpoint-storage.ts";
import { FailingSource, type Record2 } from "../../itcase/failing-source.ts";
import { CollectSink, CollectStore, type CollectTxn } from "./collect-sink.ts";

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

describe("CollectStore", () => {
  const t = (owner: string, seq: number): CollectTxn => [owner, seq, seq + 1];

  it("commits each transaction once, in any order: a repeat is a no-op, an unknown one an error naming it", () => {
    const s = new CollectStore<string>();
    for (const seq of [0, 1, 2, 3, 4, 5]) s.preCommit(t("0-0", seq), [`a${seq}`]);
    s.preCommit(t("1-0", 0), ["b0"]);
    // Out of order (2 before 0 and 1, 5 before 4), with repeats of every kind.
    for (const seq of [2, 0, 2, 1, 0, 5, 3, 5, 4, 4]) s.commit(t("0-0", seq));
    s.commit(t("1-0", 0));
    s.commit(t("1-0", 0));
    expect(s.committed).toEqual(["a2", "a0", "a1", "a5", "a3", "a4", "b0"]);
    expect(s.commits).toBe(7);
    expect(s.pendingCount()).toBe(0);
    expect(() => s.commit(t("0-0", 6))).toThrow("CollectStore: transaction 0-0-6@7 was never pre-committed");
    expect(() => s.commit(t("0-1", 0))).toThrow("transaction 0-1-0@1 was never pre-committed");
    expect(s.commits).toBe(7);
  });

  it("aborts the pending transactions of the owners it is told to, except those kept; an aborted one cannot be committed", () => {
    const s = new CollectStore<string>();
    for (const owner of ["0-0", "0-1", "1-0", "2-0"]) for (const seq of [0, 1]) s.preCommit(t(owner, seq), [`${owner}/${seq}`]);
    s.commit(t("0-0", 0));
    s.abortAllExcept([t("0-1", 1)], (subtask) => subtask === 0 || subtask === 2);
    expect(s.aborts).toBe(4); // 0-0/1, 0-1/0, 2-0/0, 2-0/1
    expect(s.pendingCount()).toBe(3); // 0-1/1 kept, subtask 1's two untouched
    s.commit(t("0-1", 1));
    s.commit(t("1-0", 1));
    expect(s.committed).toEqual(["0-0/0", "0-1/1", "1-0/1"]);
    expect(() => s.commit(t("0-0", 1))).toThrow("transaction 0-0-1@2 was never pre-committed");
    s.commit(t("0-0", 0)); // committed before the abort: still a no-op
    expect(s.commits).toBe(3);
  });
});
