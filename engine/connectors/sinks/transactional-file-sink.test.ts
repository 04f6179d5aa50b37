import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { NodeFs } from "../../state/fs.ts";
import type { SinkWriter } from "../../api/sink.ts";
import { readCommittedLines, TransactionalFileSink, type RollingPolicy } from "./transactional-file-sink.ts";
import { liveParts } from "./part-files.ts";
import { SimFs } from "../../../sim/faults/sim-fs.ts";
import { Rng } from "../../kernel/rng.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(rolling: Partial<RollingPolicy> = {}) {
  const root = mkdtempSync(path.join(tmpdir(), "flinch-sink-"));
  dirs.push(root);
  const fs = new NodeFs();
  const out = path.join(root, "out");
  const sink = new TransactionalFileSink<{ n: number }>(`file://${out}`, rolling);
  const writer = (attempt: number, subtaskIndex = 0, parallelism = 1): SinkWriter<{ n: number }> =>
    sink.createWriter({ subtaskIndex, parallelism, attempt, fs, log: { warn: () => {}, info: () => {} }, checkpointingEnabled: true, trace: () => {}, traceEvent: () => {} });
  const parts = () => fs.readdir(out).filter((f) => f.startsWith("part-"));
  const lines = () => readCommittedLines(fs, out).map((l) => JSON.parse(l).n as number).sort((a, b) => a - b);
  return { fs, out, writer, parts, lines };
}

/** Epochs 1..n, one record each (record n in epoch n), each checkpoint completing at once. */
function epochs(w: SinkWriter<{ n: number }>, from: number, to: number): unknown[][] {
  const handles: unknown[][] = [];
  for (let cp = from; cp <= to; cp++) {
    w.write({ n: cp }, cp);
    const h = w.prepareCommit(cp);
    handles.push(h);
    w.commit(h);
  }
  return handles;
}

describe("TransactionalFileSink", () => {
  it("an empty epoch pre-commits nothing: no handle, no file, pending or visible", () => {
    const s = setup();
    const w = s.writer(0);
    for (let cp = 1; cp <= 100; cp++) expect(w.prepareCommit(cp)).toEqual([]);
    expect(s.parts()).toEqual([]);
    expect(s.fs.readdir(path.join(s.out, "_pending"))).toEqual([]);
  });

  it("compacts every 16 committed epochs into one range file; every line is read exactly once", () => {
    const s = setup();
    epochs(s.writer(0), 1, 40);
    expect(s.lines()).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // 32 epochs in the range r0-31, 8 loose.
    expect(s.parts().filter((f) => f.includes("-r"))).toEqual(["part-0-0-r0-31-cp1-32.jsonl"]);
    expect(s.parts()).toHaveLength(9);
  });

  it("a range that reaches rollBytes is closed and the next one starts", () => {
    const s = setup({ compactAfter: 4, rollBytes: 40 });
    epochs(s.writer(0), 1, 24);
    const ranges = s.parts().filter((f) => f.includes("-r"));
    expect(ranges.length).toBeGreaterThan(1);
    expect(s.lines()).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it("a crash between making a range visible and deleting what it covers shows no line twice, and recovery finishes it", () => {
    const s = setup({ compactAfter: 4 });
    const handles = epochs(s.writer(0), 1, 4);
    // Re-create a covered epoch file as a crash before the deletes would leave it.
    s.fs.writeFile(path.join(s.out, "part-0-0-2-cp3.jsonl"), new TextEncoder().encode(`{"n":3}\n`));
    expect(liveParts(s.fs, s.out).superseded).toEqual(["part-0-0-2-cp3.jsonl"]);
    expect(s.lines()).toEqual([1, 2, 3, 4]);
    // The next attempt restores from a checkpoint that still lists the compacted transactions:
    // committing them again is a no-op, and the superseded file goes.
    const w1 = s.writer(1);
    w1.recover(handles.flat());
    expect(s.parts()).toEqual(["part-0-0-r0-3-cp1-4.jsonl"]);
    expect(s.lines()).toEqual([1, 2, 3, 4]);
  });

  it("a crash before the range is renamed leaves only a pending leftover, which recovery deletes", () => {
    const s = setup({ compactAfter: 100 });
    const handles = epochs(s.writer(0), 1, 3);
    s.fs.writeFile(path.join(s.out, "_pending", "0-0-r0-2-cp1-3.compact"), new TextEncoder().encode(`{"n":1}\n{"n":2}\n{"n":3}\n`));
    s.writer(1).recover(handles.flat());
    expect(s.fs.readdir(path.join(s.out, "_pending"))).toEqual([]);
    expect(s.lines()).toEqual([1, 2, 3]);
  });

  it("a pre-committed epoch that vanished is still reported as lost data", () => {
    const s = setup();
    const w = s.writer(0);
    w.write({ n: 1 }, 1);
    const h = w.prepareCommit(1);
    s.fs.unlink(path.join(s.out, "_pending", `${(h[0] as { txn: string }).txn}.jsonl`));
    expect(() => w.commit(h)).toThrow(/neither pending nor committed/);
  });

  it("a job started from a savepoint (attempt 1 again) keeps the old job's transactions out of its ranges, so its own are found again", () => {
    const s = setup({ compactAfter: 2 });
    const old = epochs(s.writer(1), 1, 3); // the job before the stop: seq 0..2 (cp 1..3), a range of 0..1
    const w = s.writer(1); // the job from the savepoint: subtask 0, attempt 1, seq 0 again
    w.recover(old[2]); // the savepoint lists the stop's transaction 0-1-2-cp3 (committed already)
    const own = epochs(w, 4, 5);
    // Used to: the recovered 0-1-2-cp3 counted as this writer's own and its range ran r2-0 (cp3-4).
    expect(s.parts().filter((f) => f.includes("-r"))).toEqual(["part-0-1-r0-1-cp1-2.jsonl", "part-0-1-r0-1-cp4-5.jsonl"]);
    // The next recovery lists cp 4's transaction: it is found in the range, not reported lost.
    s.writer(2).recover(own[0]);
    expect(s.lines()).toEqual([1, 2, 3, 4, 5]);
  });

  it("a recovery that finds a transaction committed already makes its rename durable: the commit's directory fsync may have failed", () => {
    // A swarm finding: the commit's fsync of the output directory failed (EIO), the failover's
    // recovery found the file in place and did nothing, a later checkpoint no longer listed the
    // transaction, and a power loss undid the rename: recovery then deleted it from _pending.
    const fs = new SimFs(new Rng("sink"));
    const sink = new TransactionalFileSink<{ n: number }>("file:///j/out", {});
    const writer = (attempt: number) => sink.createWriter({ subtaskIndex: 0, parallelism: 1, attempt, fs, log: { warn: () => {}, info: () => {} }, checkpointingEnabled: true, trace: () => {}, traceEvent: () => {} });
    const w = writer(1);
    w.write({ n: 1 }, 1);
    const h = w.prepareCommit(1);
    fs.inject({ kind: "eio", op: "fsync", path: "/j/out", occurrence: 1 });
    expect(() => w.commit(h)).toThrow(/EIO/);
    fs.clear();
    writer(2).recover(h);
    fs.crash("lose-all");
    expect(readCommittedLines(fs, "/j/out")).toEqual(['{"n":1}']);
  });

  it("a resumed process (attempt and seq start again) never hides the killed process's files", () => {
    const s = setup({ compactAfter: 4 });
    epochs(s.writer(1), 1, 3); // process 1: cp 1..3, seq 0..2, attempt 1
    const w2 = s.writer(1); // process 2 after a kill, restored from checkpoint 3: attempt 1 again, seq 0 again
    w2.recover([]);
    epochs(w2, 4, 11);
    expect(s.lines()).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(s.parts()).toContain("part-0-1-0-cp1.jsonl");
  });
});
