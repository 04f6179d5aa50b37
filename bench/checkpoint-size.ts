import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HeapKeyedStateBackend } from "../engine/state/heap-keyed-backend.ts";
import { FileSystemCheckpointStorage } from "../engine/state/checkpoint-storage.ts";
import { NodeFs } from "../engine/state/fs.ts";
import { IncrementalTracker } from "../engine/checkpoint/incremental.ts";
import { decodeTaskSnapshot, snapshotPayload } from "../engine/checkpoint/snapshot-codec.ts";
import { assignToKeyGroup } from "../engine/state/keygroups.ts";

/**
 * One checkpoint of a keyed backend holding `entries` window accumulators, through the same
 * phases as in a job: sync snapshot (copy-on-write capture), binary encoding streamed in chunks
 * into a framed file + fsync on file storage, metadata.
 */
export function checkpointCost(entries: number): { entries: number; bytes: number; syncMs: number; asyncMs: number; totalMs: number } {
  const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
  const st = b.getAggregatingState<bigint, { sum: bigint; count: number }, { sum: bigint; count: number }>("window-contents", {
    createAccumulator: () => ({ sum: 0n, count: 0 }),
    add: (v, a) => ({ sum: a.sum + v, count: a.count + 1 }),
    getResult: (a) => a,
    merge: (x, y) => ({ sum: x.sum + y.sum, count: x.count + y.count }),
  });
  st.setCurrentNamespace(1723161240000);
  for (let i = 0; i < entries; i++) {
    const key = `SYM${i}`;
    b.setCurrentKey(key, assignToKeyGroup(key, 128));
    st.add(BigInt(i) * 12_345n);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-bench-cp-"));
  try {
    const storage = new FileSystemCheckpointStorage(dir, new NodeFs());
    const t0 = performance.now();
    const snap = b.snapshot();
    const t1 = performance.now();
    const h = storage.writeState(1, { task: "Window#0", vertex: "Window", subtask: 0 }, snapshotPayload({ window: { keyed: snap, timers: [], list: [] } }));
    storage.writeMetadata({ checkpointId: 1, timestamp: 0, savepoint: false, maxParallelism: 128, handles: [h] });
    const t2 = performance.now();
    // The figure counts only if the file restores to exactly the state written (untimed).
    const back = decodeTaskSnapshot(storage.readState(1, h)).window.keyed;
    let rows = 0;
    let sum = 0n;
    for (const g of back) for (const [, , acc] of g.states["window-contents"]) {
      rows++;
      sum += (acc as { sum: bigint }).sum;
    }
    const want = (BigInt(entries) * BigInt(entries - 1) / 2n) * 12_345n;
    if (rows !== entries || sum !== want) throw new Error(`checkpointCost: restored ${rows} rows summing to ${sum}, expected ${entries} rows summing to ${want}`);
    return { entries, bytes: h.bytes ?? 0, syncMs: t1 - t0, asyncMs: t2 - t1, totalMs: t2 - t0 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Full vs incremental checkpoint of `entries` keyed entries after 1% of them changed, and the
 * restore rate (decode + load into a fresh backend) per MB of checkpoint.
 */
export function incrementalCost(entries: number): { entries: number; fullBytes: number; fullMs: number; incBytes: number; incMs: number; restoreMsPerMB: number } {
  const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
  const st = b.getReducingState<bigint>("window-contents", (x, y) => x + y);
  st.setCurrentNamespace(1723161240000);
  const touch = (i: number, v: bigint) => {
    const key = `SYM${i}`;
    b.setCurrentKey(key, assignToKeyGroup(key, 128));
    st.add(v);
  };
  for (let i = 0; i < entries; i++) touch(i, BigInt(i) * 12_345n);
  const tracker = new IncrementalTracker();
  let t0 = performance.now();
  const full = b.snapshot();
  tracker.delta(1, "w", full, undefined);
  const fullBytes = snapshotPayload({ w: { keyed: full, timers: [], list: [] } }).toBytes();
  const fullMs = performance.now() - t0;
  tracker.completed(1);
  for (let i = 0; i < entries; i += 100) touch(i, 1n);
  t0 = performance.now();
  const delta = tracker.delta(2, "w", b.snapshot(), 1)!;
  const incBytes = snapshotPayload({ w: { keyed: [], delta, timers: [], list: [] } }).toBytes();
  const incMs = performance.now() - t0;
  t0 = performance.now();
  const restored = new HeapKeyedStateBackend({ start: 0, end: 127 });
  restored.restore(decodeTaskSnapshot(fullBytes).w.keyed);
  const restoreMs = performance.now() - t0;
  const changed = Math.ceil(entries / 100);
  if (restored.size() !== entries || delta.rows.length !== changed || !delta.rows.every((r) => r.length === 5)) {
    throw new Error(`incrementalCost: restored ${restored.size()} of ${entries} entries, delta of ${delta.rows.length} rows for ${changed} changed`);
  }
  return { entries, fullBytes: fullBytes.length, fullMs, incBytes: incBytes.length, incMs, restoreMsPerMB: restoreMs / (fullBytes.length / 1e6) };
}
