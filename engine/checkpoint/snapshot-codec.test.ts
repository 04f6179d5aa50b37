import { describe, expect, it } from "vitest";
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage } from "../state/checkpoint-storage.ts";
import { CorruptFrameError, unframe } from "../state/framing.ts";
import { HeapKeyedStateBackend } from "../state/heap-keyed-backend.ts";
import { assignToKeyGroup } from "../state/keygroups.ts";
import { MemFs } from "../../sim/faults/mem-fs.ts";
import { decodeTaskSnapshot, snapshotPayload } from "./snapshot-codec.ts";
import type { TaskSnapshot } from "./subtask-checkpointer.ts";

/** Plain data as text (rows built, class wrappers gone; field order counts, and the decoder's is keyed, delta, timers, list). */
const plain = (s: TaskSnapshot): string => (JSON.stringify(s, (_k, v) => (typeof v === "bigint" ? `${v}n` : v instanceof Map ? { map: [...v] } : v)));

function backend(n: number): HeapKeyedStateBackend {
  const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
  const acc = b.getAggregatingState<bigint, { sum: bigint; count: number }, bigint>("window-contents", {
    createAccumulator: () => ({ sum: 0n, count: 0 }), add: (v, a) => ({ sum: a.sum + v, count: a.count + 1 }), getResult: (a) => a.sum, merge: (x, y) => ({ sum: x.sum + y.sum, count: x.count + y.count }),
  });
  const list = b.getListState<string>("seen");
  for (let i = 0; i < n; i++) {
    const key = i % 7 === 0 ? i : `SYM${i}`;
    b.setCurrentKey(key, assignToKeyGroup(key, 128));
    for (const ns of [1723161240000, 1723161300000]) {
      acc.setCurrentNamespace(ns);
      acc.add(BigInt(i) * 10n ** 10n - 5n);
    }
    list.setCurrentNamespace("");
    if (i % 3 === 0) list.add(`x${i}é`);
  }
  return b;
}

function task(b: HeapKeyedStateBackend): TaskSnapshot {
  return {
    "window": { keyed: b.snapshot(), timers: [{ keyGroup: 3, timers: [[59_999, "SYM1", 0], [119_999, 7, "w"]] }], list: [] },
    "source": { keyed: [], timers: [], list: [{ offset: 10n, split: "BTCUSDT" }, 7] },
    "incremental": {
      keyed: [],
      delta: { parent: 4, rows: [["s", 5, "k", 1, { sum: -1n, count: 1 }], ["s", 6, 12, "ns"]], replacedGroups: [5, 9] },
      timers: [], list: [],
    },
    "plain-rows": { keyed: [{ keyGroup: 2, states: { v: [["a", 0, 1], ["a", 1, [1, 2]]] } }], delta: { parent: 1, rows: [] }, timers: [], list: [] },
  };
}

describe("binary task snapshots", () => {
  it("decode to the snapshot as it was at the sync phase, every part of it", () => {
    const b = backend(500);
    const snap = task(b);
    const expected = plain(snap);
    const bytes = snapshotPayload(snap).toBytes();
    b.setCurrentKey("SYM1", assignToKeyGroup("SYM1", 128));
    b.getListState<string>("seen").add("after the snapshot");
    expect(plain(decodeTaskSnapshot(bytes))).toBe(expected);
    expect(plain(decodeTaskSnapshot(snapshotPayload(snap).toBytes()))).toBe(expected);
  });

  it("stream into a framed file chunk by chunk (a state of several MB) that reads back exactly", () => {
    const b = backend(50_000);
    const snap = task(b);
    const fs = new MemFs();
    fs.mkdirp("/c");
    const files = new FileSystemCheckpointStorage("/c", fs);
    const h = files.writeState(1, { task: "W#0", vertex: "W", subtask: 0 }, snapshotPayload(snap));
    const jm = new JobManagerCheckpointStorage();
    const mem = jm.writeState(1, { task: "W#0", vertex: "W", subtask: 0 }, snapshotPayload(snap));
    expect(mem.bytes).toBeUndefined(); // kept as objects until read
    expect(h.bytes).toBeGreaterThan(2 << 20); // three chunks at least
    expect(h.bytes).toBe(jm.readState(1, mem).length + 8 + 16); // magic and trailer around the same payload
    const back = decodeTaskSnapshot(files.readState(1, h));
    expect(plain(back)).toBe(plain(snap));
    const r = new HeapKeyedStateBackend({ start: 0, end: 127 });
    r.restore(back.window.keyed);
    expect(r.size()).toBe(b.size());
  });

  it("a torn, truncated or bit-flipped state file is refused, never decoded", () => {
    const fs = new MemFs();
    fs.mkdirp("/c");
    const files = new FileSystemCheckpointStorage("/c", fs);
    const h = files.writeState(1, { task: "W#0", vertex: "W", subtask: 0 }, snapshotPayload(task(backend(300))));
    const whole = fs.readFile(`/c/chk-1/${h.file}`);
    for (let cut = 0; cut < whole.length; cut += 7) expect(() => unframe(whole.subarray(0, cut), "f")).toThrow(CorruptFrameError);
    for (let at = 0; at < whole.length; at += 11) {
      const flipped = whole.slice();
      flipped[at] ^= 1 << (at % 8);
      expect(() => unframe(flipped, "f")).toThrow(CorruptFrameError);
    }
  });
});
