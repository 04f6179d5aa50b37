import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sumAggregate, type SumAcc } from "../../runtime/window-operator.ts";
import { HeapKeyedStateBackend } from "../heap-keyed-backend.ts";
import type { KeyGroupState, KeyedStateBackend } from "../keyed-state.ts";
import { assignToKeyGroup } from "../keygroups.ts";
import { DirtyGroups } from "./dirty-groups.ts";
import { KvKeyedStateBackend } from "./kv-keyed-backend.ts";
import { Slot, StateBuffer } from "./kv-state-handles.ts";

let root: string;
let seq = 0;
beforeAll(() => void (root = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-kv-dirty-"))));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("DirtyGroups", () => {
  const sb = new StateBuffer("s", 8);
  const slot = (kg: number, key: string) => {
    const s = new Slot(sb, kg, key, 0);
    s.dirty = true;
    s.del = false;
    return s;
  };

  it("takes whole key groups round-robin from where the last run stopped, each run in group order", () => {
    const d = new DirtyGroups(10, 8); // key groups 10..17
    const all = [slot(13, "a"), slot(10, "b"), slot(13, "c"), slot(17, "d"), slot(11, "e"), slot(15, "f")];
    for (const s of all) d.add(s);
    expect(d.size).toBe(6);
    // Group 10 (1 slot), then 11 (1): two wanted, two taken.
    expect(d.takeRun(2).map((s) => s.key)).toEqual(["b", "e"]);
    // From group 12 on: 12 is empty, 13 gives both of its slots (a whole group, more than wanted).
    expect(d.takeRun(1).map((s) => s.key)).toEqual(["a", "c"]);
    expect(d.size).toBe(2);
    d.add(slot(10, "g"));
    // From 14: 15, then 17, then around to 10.
    expect(d.takeRun(3).map((s) => s.key)).toEqual(["f", "d", "g"]);
    expect(d.size).toBe(0);
    expect(d.takeAll()).toEqual([]);
  });

  it("keeps the count of dead slots (deleted, no row in lmdb) through runs and compaction", () => {
    const d = new DirtyGroups(0, 4);
    const dead = [slot(0, "x"), slot(2, "y")];
    for (const s of dead) s.del = true;
    const live = [slot(0, "p"), slot(1, "q"), slot(3, "r")];
    for (const s of [...dead, ...live]) d.add(s);
    d.dead = 2; // as the backend's tombstone counts them
    expect(d.takeRun(1).map((s) => s.key)).toEqual(["x", "p"]);
    expect(d.dead).toBe(1);
    d.compact();
    expect(d.dead).toBe(0);
    expect(d.size).toBe(2);
    expect(dead[1]!.dirty).toBe(false);
    expect(d.takeAll().map((s) => s.key)).toEqual(["q", "r"]);
  });
});

/** Rows in key order: row order inside a state is the one thing the backends may differ in. */
const canonical = (gs: KeyGroupState[]) =>
  gs.map((g) => ({ keyGroup: g.keyGroup, states: Object.fromEntries(Object.entries(g.states).map(([n, rows]) => [n, [...rows].sort((a, c) => (String(a[0]) < String(c[0]) ? -1 : 1))])) }));

/** Sums over many keys in several windows, each fired (get + clear) when the next opens: the spill bench's shape, small. */
function play(b: KeyedStateBackend, keys: number, adds: number, perWindow: number): unknown[] {
  const st = b.getAggregatingState<{ q: bigint }, SumAcc, SumAcc>("window-contents", sumAggregate("q", "test"));
  const seen: unknown[] = [];
  const names = Array.from({ length: keys }, (_, i) => `K${i}`);
  const fire = (w: number) => {
    st.setCurrentNamespace(w);
    for (const k of names) {
      b.setCurrentKey(k, assignToKeyGroup(k, 128));
      const r = st.get();
      if (r !== undefined) seen.push([k, w, r.sum, r.count]), st.clear();
    }
  };
  let x = 7;
  let w = 0;
  for (let i = 0; i < adds; i++) {
    if (Math.floor(i / perWindow) !== w) fire(w), (w = Math.floor(i / perWindow));
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const k = names[x % keys]!;
    b.setCurrentKey(k, assignToKeyGroup(k, 128));
    st.setCurrentNamespace(w);
    // Values past 64 bits now and then: the fixed form's long variant through lmdb.
    st.add({ q: i % 97 === 0 ? 2n ** 70n + BigInt(i) : BigInt(i) - 1000n });
    if (i === adds >> 1) seen.push(canonical(b.snapshot()), b.size());
  }
  seen.push(canonical(b.snapshot()), b.size());
  fire(w);
  seen.push(canonical(b.snapshot()), b.size());
  return seen;
}

describe("KvKeyedStateBackend with partial flushes", () => {
  it("keeps the entries of a failed transaction dirty: a key too long for lmdb fails every flush, none is dropped", () => {
    const b = new KvKeyedStateBackend({ start: 0, end: 127 }, path.join(root, `t${seq++}`), { writeBufferEntries: 4 });
    try {
      const v = b.getValueState<number>("v");
      const long = "k".repeat(3000);
      for (const [k, x] of [["a", 1], [long, 2], ["b", 3], ["c", 4]] as const) b.setCurrentKey(k, assignToKeyGroup(k, 128)), v.update(x);
      // A fifth write finds the buffer full: a partial flush; whichever run holds the long key fails.
      let failed = 0;
      for (const k of ["d", "e", "f", "g", "h", "i"]) {
        b.setCurrentKey(k, assignToKeyGroup(k, 128));
        try {
          v.update(5);
        } catch {
          failed++;
        }
      }
      expect(failed).toBeGreaterThan(0);
      expect(() => b.size()).toThrow(/exceeds lmdb's 1978/);
      expect(() => b.size()).toThrow(/exceeds lmdb's 1978/);
      // Still cached and still dirty: the value is there to read.
      b.setCurrentKey(long, assignToKeyGroup(long, 128));
      expect(v.value()).toBe(2);
    } finally {
      b.dispose();
    }
  });

  it("gives the heap backend's sums, snapshots and sizes whatever share of the buffer a flush writes", () => {
    const heap = play(new HeapKeyedStateBackend({ start: 0, end: 127 }), 3000, 40_000, 15_000);
    for (const flushShare of [1, 0.5, 0.125, 0.01]) {
      const b = new KvKeyedStateBackend({ start: 0, end: 127 }, path.join(root, `t${seq++}`), { writeBufferEntries: 256, readCacheEntries: 1024, flushShare });
      try {
        expect(play(b, 3000, 40_000, 15_000)).toEqual(heap);
        b.checkCacheCounts();
      } finally {
        b.dispose();
      }
    }
  });
});
