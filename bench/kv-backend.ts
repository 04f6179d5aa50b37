import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { assignToKeyGroup } from "../engine/state/keygroups.ts";
import { HeapKeyedStateBackend } from "../engine/state/heap-keyed-backend.ts";
import type { KeyedStateBackend } from "../engine/state/keyed-state.ts";
import { KvKeyedStateBackend } from "../engine/state/kv/kv-keyed-backend.ts";
import { sumAggregate, type SumAcc } from "../engine/runtime/window-operator.ts";

/**
 * The window operator's hot path on the heap and on the lmdb backend: setCurrentKey +
 * setCurrentNamespace + aggregating add, with each window fired (get + clear per key) when
 * the next one opens, as the operator's timers do. Keys arrive in a fixed pseudo-random order.
 */
const MAX_PARALLELISM = 128;
const WINDOW_MS = 60_000;

interface Workload {
  keys: string[];
  kgs: number[];
  order: Uint32Array;
  opsPerWindow: number;
}

export function workload(keyCount: number, ops: number, opsPerWindow: number): Workload {
  const keys = Array.from({ length: keyCount }, (_, i) => `SYM${i}`);
  const kgs = keys.map((k) => assignToKeyGroup(k, MAX_PARALLELISM));
  const order = new Uint32Array(ops);
  let x = 0x9e3779b9;
  for (let i = 0; i < ops; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    order[i] = x % keyCount;
  }
  return { keys, kgs, order, opsPerWindow };
}

/** Adds per second of wall time, firing included. Returns a checksum so the work is not dead. */
export function run(b: KeyedStateBackend, w: Workload): { opsPerSec: number; fired: bigint } {
  const st = b.getAggregatingState<{ q: bigint }, SumAcc, SumAcc>("window-contents", sumAggregate("q", "bench"));
  const rec = { q: 1_000_003n };
  let fired = 0n;
  const fire = (start: number) => {
    st.setCurrentNamespace(start);
    for (let k = 0; k < w.keys.length; k++) {
      b.setCurrentKey(w.keys[k], w.kgs[k]);
      const r = st.get();
      if (r === undefined) continue;
      fired += r.sum as bigint;
      st.clear();
    }
  };
  const t0 = performance.now();
  let window = 0;
  for (let i = 0; i < w.order.length; i++) {
    const win = Math.floor(i / w.opsPerWindow);
    if (win !== window) fire(window * WINDOW_MS), (window = win);
    const k = w.order[i];
    b.setCurrentKey(w.keys[k], w.kgs[k]);
    st.setCurrentNamespace(win * WINDOW_MS);
    st.add(rec);
  }
  fire(window * WINDOW_MS);
  const ms = performance.now() - t0;
  return { opsPerSec: (w.order.length / ms) * 1000, fired };
}

/** Best adds per second of `reps` runs; every run's fired sums must equal `check` (set by the first run seen). */
function bestOf(reps: number, make: () => KeyedStateBackend, w: Workload, check: { fired?: bigint }): number {
  let best = 0;
  for (let i = 0; i < reps; i++) {
    const b = make();
    try {
      const r = run(b, w);
      if (check.fired !== undefined && r.fired !== check.fired) throw new Error("bench: backends disagree on the sums");
      check.fired = r.fired;
      best = Math.max(best, r.opsPerSec);
    } finally {
      b.dispose();
    }
  }
  return best;
}

export interface KvFigure {
  heapOpsPerSec: number;
  kvOpsPerSec: number;
  ratio: number;
  /** The kv backend as it was before its read cache: no cache, a 4,096-entry write buffer; same run. */
  kvNoCacheOpsPerSec: number;
  noCacheRatio: number;
}

function compare(w: Workload, reps: number): KvFigure {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-bench-kv-"));
  let n = 0;
  try {
    const range = { start: 0, end: MAX_PARALLELISM - 1 };
    const heap = () => new HeapKeyedStateBackend(range);
    const kv = () => new KvKeyedStateBackend(range, path.join(root, `t${n++}`));
    const kvNoCache = () => new KvKeyedStateBackend(range, path.join(root, `t${n++}`), { readCacheEntries: 0, writeBufferEntries: 4096 });
    // Every run of every backend must fire the same sums, or no figure is given.
    const check: { fired?: bigint } = {};
    bestOf(1, heap, w, check); // warm-up: the JIT needs one pass
    bestOf(1, kv, w, check);
    bestOf(1, kvNoCache, w, check);
    // Interleaved, so a load change on a shared machine hits all three alike.
    let heapOpsPerSec = 0, kvOpsPerSec = 0, kvNoCacheOpsPerSec = 0;
    for (let i = 0; i < reps; i++) {
      heapOpsPerSec = Math.max(heapOpsPerSec, bestOf(1, heap, w, check));
      kvOpsPerSec = Math.max(kvOpsPerSec, bestOf(1, kv, w, check));
      kvNoCacheOpsPerSec = Math.max(kvNoCacheOpsPerSec, bestOf(1, kvNoCache, w, check));
    }
    return {
      heapOpsPerSec: Math.round(heapOpsPerSec), kvOpsPerSec: Math.round(kvOpsPerSec), ratio: +(kvOpsPerSec / heapOpsPerSec).toFixed(3),
      kvNoCacheOpsPerSec: Math.round(kvNoCacheOpsPerSec), noCacheRatio: +(kvNoCacheOpsPerSec / heapOpsPerSec).toFixed(3),
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** ~1000 keys, 1M adds, 10 adds per key per window: the working set fits the write buffer. */
export function benchKv(): KvFigure {
  return compare(workload(1000, 1_000_000, 10_000), 3);
}

/**
 * 100k keys, 1M adds, one window: the working set is 25× the write buffer, so most adds read
 * lmdb and decode, and flushes encode and write. The honest cost once state outgrows memory's share.
 */
export function benchKvSpill(): KvFigure {
  return compare(workload(100_000, 1_000_000, 1_000_000), 2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log("window hot path, 1000 keys:", benchKv());
  console.log("spilling, 100k keys:       ", benchKvSpill());
}
