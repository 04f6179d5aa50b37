import { describe, expect, it } from "vitest";
import { HeapKeyedStateBackend } from "./heap-keyed-backend.ts";
import { assignToKeyGroup, keyGroupRangeFor } from "./keygroups.ts";

const at = (b: HeapKeyedStateBackend, k: string) => b.setCurrentKey(k, assignToKeyGroup(k, 128));

describe("heap keyed state", () => {
  it("scopes value, reducing, list and map state by key and namespace", () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
    const v = b.getValueState<number>("v");
    const r = b.getReducingState<bigint>("r", (x, y) => x + y);
    const l = b.getListState<string>("l");
    const m = b.getMapState<string, number>("m");
    at(b, "a");
    v.setCurrentNamespace(1);
    v.update(7);
    v.setCurrentNamespace(2);
    expect(v.value()).toBeUndefined();
    r.add(1n);
    r.add(2n);
    l.add("x");
    l.add("y");
    m.put("p", 1);
    at(b, "b");
    expect([r.get(), l.get(), m.get("p")]).toEqual([undefined, [], undefined]);
    at(b, "a");
    v.setCurrentNamespace(1);
    expect([v.value(), r.get(), l.get(), m.entries()]).toEqual([7, 3n, ["x", "y"], [["p", 1]]]);
    expect(b.size()).toBe(4);
    r.clear();
    m.remove("p");
    expect(b.size()).toBe(2);
  });

  it("snapshots by key group, immune to later writes, and restores only its own range", () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
    const r = b.getReducingState<bigint>("sum", (x, y) => x + y);
    const keys = Array.from({ length: 50 }, (_x, i) => `K${i}`);
    for (const k of keys) {
      at(b, k);
      r.add(BigInt(k.length));
    }
    const snap = b.snapshot();
    at(b, "K1");
    r.add(100n);
    expect(snap.find((g) => g.states.sum.some(([k]) => k === "K1"))!.states.sum.find(([k]) => k === "K1")![2]).toBe(2n);
    const parts = [0, 1, 2].map((i) => {
      const p = new HeapKeyedStateBackend(keyGroupRangeFor(i, 3, 128));
      p.restore(snap);
      return p;
    });
    expect(parts.reduce((a, p) => a + p.size(), 0)).toBe(50);
    for (const k of keys) {
      const owner = parts.find((p) => { const kg = assignToKeyGroup(k, 128); return kg >= p.keyGroupRange.start && kg <= p.keyGroupRange.end; })!;
      at(owner, k);
      expect(owner.getReducingState<bigint>("sum", (x, y) => x + y).get()).toBe(BigInt(k.length));
    }
    expect(() => at(parts[0], keys.find((k) => assignToKeyGroup(k, 128) > parts[0].keyGroupRange.end)!)).toThrow(/outside this subtask's range/);
  });

  it("copy-on-write: a snapshot keeps every state kind as of its sync phase, whatever is written after", () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
    const v = b.getValueState<number>("v");
    const l = b.getListState<string>("l");
    const m = b.getMapState<string, number>("m");
    const a = b.getAggregatingState<bigint, { sum: bigint }, bigint>("a", { createAccumulator: () => ({ sum: 0n }), add: (x, acc) => ({ sum: acc.sum + x }), getResult: (acc) => acc.sum, merge: (x, y) => ({ sum: x.sum + y.sum }) });
    const write = (k: string, i: number) => {
      at(b, k);
      v.update(i);
      l.add(`e${i}`);
      m.put(`p${i % 3}`, i);
      a.add(BigInt(i));
    };
    for (let i = 0; i < 40; i++) write(`K${i % 10}`, i);
    const rows = (snap: ReturnType<typeof b.snapshot>) => JSON.stringify(snap, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Map ? [...x] : x));
    const before = rows(structuredClone(b.snapshot().map((g) => ({ keyGroup: g.keyGroup, states: g.states }))));
    const snap = b.snapshot();
    for (let i = 40; i < 90; i++) write(`K${i % 12}`, i);
    at(b, "K3");
    v.clear();
    l.update([]);
    m.remove("p0");
    m.remove("p1");
    a.clear();
    expect(rows(snap)).toBe(before);
    const second = b.snapshot();
    write("K3", 1000);
    expect(rows(second)).not.toBe(before);
    // Restoring the first snapshot gives its state back exactly.
    const r = new HeapKeyedStateBackend({ start: 0, end: 127 });
    r.restore(snap);
    expect(rows(r.snapshot())).toBe(before);
  });

  it("snapshots exactly the groups in use, ascending, across tables added between snapshots", () => {
    const range = { start: 16, end: 79 };
    const b = new HeapKeyedStateBackend(range);
    const keys = Array.from({ length: 400 }, (_x, i) => `k${(i * 7919) % 1000}`).filter((k) => {
      const g = assignToKeyGroup(k, 128);
      return g >= range.start && g <= range.end;
    });
    const groupsOf = (ks: string[]) => [...new Set(ks.map((k) => assignToKeyGroup(k, 128)))].sort((x, y) => x - y);
    const v = b.getValueState<number>("v");
    const some = keys.slice(0, 9);
    for (const k of some) {
      at(b, k);
      v.update(1);
    }
    expect(b.snapshot().map((g) => g.keyGroup)).toEqual(groupsOf(some));
    // A second table, created after a snapshot, in other groups: the snapshot is the union, each group's tables by name.
    const a = b.getValueState<number>("a");
    const more = keys.slice(9, 30);
    for (const k of more) {
      at(b, k);
      a.update(2);
    }
    const snap = b.snapshot();
    expect(snap.map((g) => g.keyGroup)).toEqual(groupsOf([...some, ...more]));
    for (const g of snap) expect(Object.keys(g.states)).toEqual(["a", "v"].filter((n) => g.states[n] !== undefined));
    // A group emptied by clear() is in use but holds nothing: left out, as before.
    at(b, some[0]);
    v.clear();
    const left = [...some.slice(1), ...more];
    const last = b.snapshot();
    expect(last.map((g) => g.keyGroup)).toEqual(groupsOf(left));
    // Restored (adopted) groups are in use in the new backend too.
    const r = new HeapKeyedStateBackend(range);
    r.restore(last);
    expect(r.snapshot().map((g) => g.keyGroup)).toEqual(groupsOf(left));
  });
});
