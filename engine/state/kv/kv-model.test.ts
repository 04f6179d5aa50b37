import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { HeapKeyedStateBackend } from "../heap-keyed-backend.ts";
import type { KeyGroupState, KeyedStateBackend } from "../keyed-state.ts";
import { assignToKeyGroup, keyGroupRangeFor, type KeyGroupRange } from "../keygroups.ts";
import { fromJson, toJson } from "../serde.ts";
import { compareBytes, encodeStateKey } from "./key-codec.ts";
import { KvKeyedStateBackend } from "./kv-keyed-backend.ts";
import { EmbeddedKVStateBackend, EmbeddedRocksDBStateBackend } from "./kv-state-backend.ts";
import { closeIdleEnvs } from "./kv-env-pool.ts";

let root: string;
let seq = 0;
beforeAll(() => void (root = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-kv-model-"))));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const FULL: KeyGroupRange = { start: 0, end: 127 };
const kv = (range = FULL, writeBufferEntries?: number, readCacheEntries?: number) =>
  new KvKeyedStateBackend(range, path.join(root, `t${seq++}`), { writeBufferEntries, readCacheEntries });
/** One backend at a time: the property runs open hundreds of environments in sequence. */
function withKv<T>(f: (b: KvKeyedStateBackend) => T, range = FULL, buffer?: number, cache?: number): T {
  const b = kv(range, buffer, cache);
  try {
    return f(b);
  } finally {
    b.dispose();
  }
}

/**
 * The snapshot with rows in the codec's byte order: the only thing allowed to differ between
 * the backends is row order inside a state (insertion order on the heap). Group order, the
 * order of state names, and every value must be identical.
 */
function canonical(gs: readonly KeyGroupState[]): KeyGroupState[] {
  return gs.map((g) => {
    const states: KeyGroupState["states"] = {};
    for (const name of Object.keys(g.states)) {
      const keyed = g.states[name].map((r) => [encodeStateKey(g.keyGroup, r[0], r[1], name), r] as const);
      states[name] = keyed.sort((a, b) => compareBytes(a[0], b[0])).map((x) => x[1]);
    }
    return { keyGroup: g.keyGroup, states };
  });
}
const shape = (gs: readonly KeyGroupState[]) => gs.map((g) => [g.keyGroup, Object.keys(g.states)]);

const KEYS = ["BTCUSDT", "ETHUSDT", "", "a\0b", 7, -3, 0, "\uD83D\uDE00"];
type Op =
  | ["key", number]
  | ["ns", number | string]
  | ["value", bigint | undefined]
  | ["reduce", bigint]
  | ["agg", number]
  | ["sum", bigint]
  | ["fsum", number]
  | ["list", string, boolean]
  | ["map", string, number | undefined]
  | ["clear", number]
  | ["read"]
  | ["entries"]
  | ["checkpoint"];
const big = fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.tuple(fc.constant("key" as const), fc.nat(KEYS.length - 1)), weight: 4 },
  // Up to 20 namespaces: a key's cached slots turn from a chain into a Map past 8.
  { arbitrary: fc.tuple(fc.constant("ns" as const), fc.oneof(fc.nat(3), fc.nat(20), fc.constantFrom("", "late"))), weight: 2 },
  fc.tuple(fc.constant("value" as const), fc.option(big, { nil: undefined })),
  fc.tuple(fc.constant("reduce" as const), big),
  { arbitrary: fc.tuple(fc.constant("agg" as const), fc.integer({ min: -1000, max: 1000 })), weight: 4 },
  // Fixed-point sums are stored in a fixed binary form (value-codec.ts): beyond 64 bits too.
  { arbitrary: fc.tuple(fc.constant("sum" as const), fc.oneof(big, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n }))), weight: 2 },
  fc.tuple(fc.constant("fsum" as const), fc.double()),
  fc.tuple(fc.constant("list" as const), fc.string({ maxLength: 3 }), fc.boolean()),
  fc.tuple(fc.constant("map" as const), fc.constantFrom("x", "y", "z"), fc.option(fc.integer(), { nil: undefined })),
  fc.tuple(fc.constant("clear" as const), fc.nat(6)),
  fc.constant(["read"] as Op),
  fc.constant(["entries"] as Op),
  fc.constant(["checkpoint"] as Op),
);

interface Trace {
  seen: unknown[];
  /** Full snapshot assembled from the incremental (changed key groups only) snapshots. */
  assembled?: KeyGroupState[];
}

/** Applies the script and records everything observable through the KeyedStateBackend API. */
function play(b: KeyedStateBackend, script: Op[]): Trace {
  const seen: unknown[] = [];
  const value = b.getValueState<bigint>("value");
  const red = b.getReducingState<bigint>("reduce", (x, y) => x + y);
  const agg = b.getAggregatingState<number, { n: number; s: bigint }, string>("window-contents", {
    createAccumulator: () => ({ n: 0, s: 0n }),
    add: (v, a) => ({ n: a.n + 1, s: a.s + BigInt(v) * 2n ** 70n }),
    getResult: (a) => `${a.n}:${a.s}`,
    merge: (a, c) => ({ n: a.n + c.n, s: a.s + c.s }),
  });
  const list = b.getListState<string>("list");
  const map = b.getMapState<string, number>("map");
  type Sum<T> = { sum: T; count: number };
  const sumOf = <T,>(zero: T, plus: (x: T, y: T) => T) => ({
    createAccumulator: (): Sum<T> => ({ sum: zero, count: 0 }),
    add: (v: T, a: Sum<T>): Sum<T> => ({ sum: plus(a.sum, v), count: a.count + 1 }),
    getResult: (a: Sum<T>) => a,
    merge: (a: Sum<T>, c: Sum<T>): Sum<T> => ({ sum: plus(a.sum, c.sum), count: a.count + c.count }),
  });
  const sum = b.getAggregatingState("sums", sumOf<bigint>(0n, (x, y) => x + y));
  const fsum = b.getAggregatingState("fsums", sumOf<number>(0, (x, y) => x + y));
  const all = [value, red, agg, list, map, sum, fsum];
  const kvb = b instanceof KvKeyedStateBackend ? b : undefined;
  let assembled = kvb ? new Map<number, KeyGroupState>() : undefined;
  const key = (i: number) => b.setCurrentKey(KEYS[i], assignToKeyGroup(KEYS[i], 128));
  key(0);
  for (const o of script) {
    switch (o[0]) {
      case "key": key(o[1]); break;
      case "ns": for (const s of all) s.setCurrentNamespace(o[1]); break;
      case "value": o[1] === undefined ? value.clear() : value.update(o[1]); break;
      case "reduce": red.add(o[1]); break;
      case "agg": seen.push(agg.add(o[1])); break;
      case "sum": seen.push(sum.add(o[1])); break;
      case "fsum": seen.push(fsum.add(o[1])); break;
      case "list": o[2] ? list.update([o[1]]) : list.add(o[1]); break;
      case "map": o[2] === undefined ? map.remove(o[1]) : map.put(o[1], o[2]); break;
      case "clear": all[o[1]].clear(); break;
      case "read": seen.push([value.value(), red.get(), agg.get(), [...list.get()], map.entries().sort(), map.contains("x"), map.isEmpty(), sum.get(), fsum.get(), b.size()]); break;
      case "entries": seen.push(b.entries("window-contents").map((e) => toJson(e)).sort()); break;
      case "checkpoint":
        if (kvb && assembled) {
          // What an incremental checkpoint does: re-read only the changed groups, keep the rest.
          const changed = kvb.changedKeyGroupsSinceLastSnapshot();
          for (const g of changed) assembled.delete(g);
          for (const g of kvb.snapshot(changed)) assembled.set(g.keyGroup, g);
          assembled = new Map([...assembled].sort((x, y) => x[0] - y[0]));
          seen.push(canonical([...assembled.values()]));
        } else seen.push(canonical(b.snapshot()));
        break;
    }
  }
  kvb?.checkCacheCounts();
  const final = b.snapshot();
  seen.push(canonical(final), shape(final), b.size());
  return { seen, assembled: assembled && [...assembled.values()] };
}

describe("KvKeyedStateBackend against HeapKeyedStateBackend", () => {
  // The read cache: 2 entries rotates its generations at almost every access (a tiny buffer
  // keeps the young generation tiny too), 8 now and then, the default never in 150 ops.
  test.prop([fc.array(op, { maxLength: 150 }), fc.constantFrom(1, 2, 5, 4096), fc.constantFrom(2, 8, undefined)], { numRuns: 250 })(
    "every observable result and every snapshot is the same, incremental snapshots included",
    (script, buffer, cache) => {
      const heap = play(new HeapKeyedStateBackend(FULL), script);
      withKv((b) => {
        const t = play(b, script);
        expect(t.seen).toEqual(heap.seen);
      }, FULL, buffer, cache);
    },
  );

  test.prop([fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean()], { numRuns: 40 })(
    "a snapshot restores across backends at another parallelism, through the checkpoint serde",
    (script, p, q, fromKv) => {
      const source = fromKv ? kv(FULL, 3) : new HeapKeyedStateBackend(FULL);
      play(source, script);
      const full = fromJson<KeyGroupState[]>(toJson(source.snapshot()));
      source.dispose();
      // Scale to p kv subtasks, then from those to q heap subtasks.
      const mid = Array.from({ length: p }, (_, i) => kv(keyGroupRangeFor(i, p, 128), 2));
      try {
        for (const m of mid) {
          m.restore(full);
          const r = m.keyGroupRange;
          expect(canonical(m.snapshot())).toEqual(canonical(full.filter((g) => g.keyGroup >= r.start && g.keyGroup <= r.end)));
        }
        const parts = mid.map((m) => fromJson<KeyGroupState[]>(toJson(m.snapshot())));
        const out = Array.from({ length: q }, (_, i) => new HeapKeyedStateBackend(keyGroupRangeFor(i, q, 128)));
        for (const h of out) for (const s of parts) h.restore(s);
        expect(canonical(out.flatMap((h) => h.snapshot()))).toEqual(canonical(full));
      } finally {
        for (const m of mid) m.dispose();
      }
    },
  );
});

describe("KvKeyedStateBackend details", () => {
  it("a written value survives the read cache's rotations until it is flushed and after", () => {
    withKv((b) => {
      const v = b.getValueState<bigint>("value");
      b.setCurrentKey("BTCUSDT", assignToKeyGroup("BTCUSDT", 128));
      v.setCurrentNamespace(0);
      v.update(42n);
      // Reads of other namespaces fill the young generation (4 entries) several times over.
      for (let ns = 1; ns <= 20; ns++) {
        v.setCurrentNamespace(ns);
        expect(v.value()).toBeUndefined();
      }
      v.setCurrentNamespace(0);
      expect(v.value()).toBe(42n);
      v.update(43n);
      for (let ns = 1; ns <= 20; ns++) v.setCurrentNamespace(ns), v.value();
      v.setCurrentNamespace(0);
      expect(v.value()).toBe(43n);
      expect(b.snapshot()).toEqual([{ keyGroup: assignToKeyGroup("BTCUSDT", 128), states: { value: [["BTCUSDT", 0, 43n]] } }]);
    }, FULL, 4, 2);
  });

  it("keeps many namespaces of one key apart, through the switch from a chain to a Map and back", () => {
    for (const [buffer, cache] of [[4096, undefined], [1, 2], [3, 8]] as const) {
      const heap = new HeapKeyedStateBackend(FULL);
      withKv((b) => {
        const seen = [heap, b].map((s) => {
          const v = s.getValueState<number>("v");
          const out: unknown[] = [];
          for (const key of ["a", "b"]) {
            s.setCurrentKey(key, assignToKeyGroup(key, 128));
            for (let ns = 0; ns < 30; ns++) v.setCurrentNamespace(ns), v.update(ns * 10 + key.length);
            for (let ns = 0; ns < 30; ns += 3) v.setCurrentNamespace(ns), v.clear();
            for (let ns = 29; ns >= 0; ns--) v.setCurrentNamespace(ns), out.push(v.value());
            for (let ns = 0; ns < 30; ns += 2) v.setCurrentNamespace(ns), v.update(-ns - 1);
          }
          out.push(canonical(s.snapshot()));
          return out;
        });
        b.checkCacheCounts();
        expect(seen[1]).toEqual(seen[0]);
      }, FULL, buffer, cache);
    }
  });

  it("bigints far beyond 2^64 round-trip exactly in every kind of state, through lmdb and both restores", () => {
    const values = [2n ** 64n, 2n ** 64n - 1n, -(2n ** 63n) - 1n, 2n ** 200n + 12345n, -(2n ** 521n) + 1n, 0n, -1n];
    withKv((b) => {
      const v = b.getValueState<unknown>("v");
      const l = b.getListState<bigint>("l");
      const m = b.getMapState<bigint, { q: bigint }>("m");
      values.forEach((x, i) => {
        b.setCurrentKey(`K${i}`, assignToKeyGroup(`K${i}`, 128));
        v.update({ sum: x, parts: [x, x * x], nested: new Map([[x, x]]) });
        l.add(x);
        l.add(-x);
        m.put(x, { q: x * 3n });
      });
      b.size(); // buffer of 1: everything has been through lmdb by now
      const check = (s: KeyedStateBackend) => {
        const sv = s.getValueState<{ sum: bigint; parts: bigint[]; nested: Map<bigint, bigint> }>("v");
        const sl = s.getListState<bigint>("l");
        const sm = s.getMapState<bigint, { q: bigint }>("m");
        values.forEach((x, i) => {
          s.setCurrentKey(`K${i}`, assignToKeyGroup(`K${i}`, 128));
          expect(sv.value()).toStrictEqual({ sum: x, parts: [x, x * x], nested: new Map([[x, x]]) });
          expect(sl.get()).toStrictEqual([x, -x]);
          expect(sm.get(x)).toStrictEqual({ q: x * 3n });
        });
      };
      check(b);
      const heap = new HeapKeyedStateBackend(FULL);
      heap.restore(fromJson<KeyGroupState[]>(toJson(b.snapshot())));
      check(heap);
      withKv((again) => {
        again.restore(heap.snapshot());
        check(again);
        expect(canonical(again.snapshot())).toEqual(canonical(b.snapshot()));
      });
    }, FULL, 1);
  });

  it("names the key and the state when a key is too long for lmdb, on a read and on a flush", () => {
    withKv((b) => {
      const v = b.getValueState<number>("v");
      for (const key of ["k".repeat(3000), "\u00e9".repeat(1000), "k".repeat(1970)]) {
        b.setCurrentKey(key, assignToKeyGroup(key, 128));
        expect(() => v.value()).toThrow(/^state key of .* bytes \(key "(k|\u00e9)+, state "v"\) exceeds lmdb's 1978$/);
        v.update(1); // a blind write reaches lmdb only at the flush
        expect(() => b.size()).toThrow(/exceeds lmdb's 1978/);
      }
      b.setCurrentKey("ok", assignToKeyGroup("ok", 128));
      expect(v.value()).toBeUndefined();
    });
  });

  it("tracks changed key groups until the next snapshot, and counts restored groups as changed", () => {
    withKv((b) => {
      const v = b.getValueState<number>("v");
      expect(b.changedKeyGroupsSinceLastSnapshot()).toEqual([]);
      const keys = Array.from({ length: 40 }, (_, i) => `K${i}`).filter((k) => assignToKeyGroup(k, 128) >= 32 && assignToKeyGroup(k, 128) <= 95);
      for (const k of keys.slice(0, 5)) b.setCurrentKey(k, assignToKeyGroup(k, 128)), v.update(1);
      const groups = keys.slice(0, 5).map((k) => assignToKeyGroup(k, 128));
      expect(b.changedKeyGroupsSinceLastSnapshot()).toEqual([...new Set(groups)].sort((x, y) => x - y));
      b.setCurrentKey(keys[0], assignToKeyGroup(keys[0], 128));
      v.clear();
      const snap = b.snapshot();
      expect(b.changedKeyGroupsSinceLastSnapshot()).toEqual([]);
      expect(snap.length).toBe(new Set(groups.slice(1)).size);
      withKv((c) => {
        c.restore(snap);
        expect(c.changedKeyGroupsSinceLastSnapshot()).toEqual(snap.map((g) => g.keyGroup));
      }, { start: 32, end: 95 });
    }, { start: 32, end: 95 }, 2);
  });

  it("keeps memory flat over many flushes (each transaction commits before the next begins)", () => {
    withKv((b) => {
      const v = b.getValueState<number>("v");
      b.setCurrentKey("k", assignToKeyGroup("k", 128));
      for (let i = 0; i < 2000; i++) v.update(i); // warm-up
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 20_000; i++) v.update(i); // one transaction each (buffer of 1)
      // A transaction left waiting on the event loop nests the next one in it: ~13 KB each, 260 MB here.
      expect(process.memoryUsage().rss - before).toBeLessThan(120 * 2 ** 20);
      expect(v.value()).toBe(19_999);
    }, FULL, 1);
  });

  it("gives each task its own directory, starts empty over stale files, and removes the directory on dispose", () => {
    const local = path.join(root, "local");
    const kvBackend = new EmbeddedKVStateBackend({ localDir: local });
    const rocks = new EmbeddedRocksDBStateBackend({ localDir: local });
    expect([kvBackend.name, rocks.name]).toEqual(["kv", "rocksdb"]);
    const a = kvBackend.createKeyedBackend(FULL, "Window -> Sink (1/2)");
    const b = rocks.createKeyedBackend(FULL, "Window -> Sink (1/2)");
    expect(a.dir).not.toBe(b.dir);
    expect(path.basename(a.dir)).toMatch(new RegExp(`^flinch-kv-${process.pid}-\\d+-\\d+-Window_-_Sink_1_2_$`));
    a.setCurrentKey("x", assignToKeyGroup("x", 128));
    a.getValueState<number>("v").update(1);
    a.createTimerService().register("x", assignToKeyGroup("x", 128), "w", 60_000);
    expect(a.size()).toBe(1);
    // A directory left behind by a killed process holds an old environment: it must not count.
    const stale = path.join(root, "stale");
    fs.mkdirSync(stale);
    fs.copyFileSync(path.join(a.dir, "state.mdb"), path.join(stale, "state.mdb"));
    withKv((c) => expect(c.size()).toBe(0));
    const fresh = new KvKeyedStateBackend(FULL, stale);
    expect(fresh.size()).toBe(0);
    // Made by hand: closed and removed on dispose.
    fresh.dispose();
    expect(fs.existsSync(fresh.dir)).toBe(false);
    // Made by the state backend: the environment goes back to this thread's pool, emptied, and the
    // next task under the same local directory takes it; it sees nothing of the task before.
    a.dispose();
    expect(() => a.getValueState<number>("v").value()).toThrow(/used after its task was disposed/);
    const next = kvBackend.createKeyedBackend(FULL, "Window -> Sink (2/2)");
    expect(next.dir).toBe(a.dir);
    expect(next.size()).toBe(0);
    expect(next.createTimerService().snapshot()).toEqual([]);
    for (const x of [next, b]) x.dispose();
    expect(() => a.dispose()).not.toThrow();
    closeIdleEnvs();
    expect(fs.readdirSync(local)).toEqual([]);
  });
});
