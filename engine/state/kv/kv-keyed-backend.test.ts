import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { HeapKeyedStateBackend } from "../heap-keyed-backend.ts";
import type { KeyGroupState, KeyedStateBackend } from "../keyed-state.ts";
import { assignToKeyGroup, keyGroupRangeFor } from "../../runtime/keygroups.ts";
import { toJson } from "../serde.ts";
import { KvKeyedStateBackend } from "./kv-keyed-backend.ts";
import { EmbeddedKVStateBackend } from "./kv-state-backend.ts";
import { decodeStateKey, encodeStateKey, keyGroupOf, compareBytes } from "./key-codec.ts";

let root: string;
let n = 0;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-kv-test-"));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const kv = (range = { start: 0, end: 127 }, writeBufferEntries?: number) => new KvKeyedStateBackend(range, path.join(root, `t${n++}`), { writeBufferEntries });

/** Snapshots compared without row order (the heap keeps insertion order, lmdb byte order). */
function canon(gs: readonly KeyGroupState[]): string[] {
  const out: string[] = [];
  for (const g of gs) for (const [name, rows] of Object.entries(g.states)) for (const r of rows) out.push(`${g.keyGroup}|${name}|${toJson(r)}`);
  return out.sort();
}

type Op =
  | { op: "key"; k: string | number }
  | { op: "ns"; ns: number | string }
  | { op: "value"; v: bigint | null }
  | { op: "reduce"; v: bigint }
  | { op: "agg"; v: number }
  | { op: "list"; v: string; replace: boolean }
  | { op: "map"; k: string; v: number | null }
  | { op: "clear" }
  | { op: "read" }
  | { op: "snapshot" };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant("key" as const), k: fc.oneof(fc.constantFrom("BTCUSDT", "ETHUSDT", "", "a|b", "ü"), fc.integer({ min: -5, max: 5 })) }),
    fc.record({ op: fc.constant("ns" as const), ns: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom("", "late")) }),
    fc.record({ op: fc.constant("value" as const), v: fc.option(fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n })) }),
    fc.record({ op: fc.constant("reduce" as const), v: fc.bigInt({ min: 0n, max: 2n ** 70n }) }),
    fc.record({ op: fc.constant("agg" as const), v: fc.integer() }),
    fc.record({ op: fc.constant("list" as const), v: fc.string(), replace: fc.boolean() }),
    fc.record({ op: fc.constant("map" as const), k: fc.constantFrom("x", "y", "z"), v: fc.option(fc.integer()) }),
    fc.constant({ op: "clear" as const }),
    fc.constant({ op: "read" as const }),
    fc.constant({ op: "snapshot" as const }),
  ),
  { maxLength: 120 },
);

/** Applies `script` to a backend and records everything observable. */
function run(b: KeyedStateBackend, script: Op[]): string[] {
  const seen: string[] = [];
  const value = b.getValueState<bigint>("value");
  const red = b.getReducingState<bigint>("reduce", (x, y) => x + y);
  const agg = b.getAggregatingState<number, { n: number; s: number }, string>("agg", {
    createAccumulator: () => ({ n: 0, s: 0 }), add: (v, a) => ({ n: a.n + 1, s: a.s + v }), getResult: (a) => `${a.n}:${a.s}`, merge: (a, c) => ({ n: a.n + c.n, s: a.s + c.s }),
  });
  const list = b.getListState<string>("list");
  const map = b.getMapState<string, number>("map");
  const all = [value, red, agg, list, map];
  b.setCurrentKey("BTCUSDT", assignToKeyGroup("BTCUSDT", 128));
  for (const o of script) {
    switch (o.op) {
      case "key": b.setCurrentKey(o.k, assignToKeyGroup(o.k, 128)); break;
      case "ns": for (const s of all) s.setCurrentNamespace(o.ns); break;
      case "value": o.v === null ? value.clear() : value.update(o.v); break;
      case "reduce": red.add(o.v); break;
      case "agg": seen.push(`created=${agg.add(o.v)}`); break;
      case "list": o.replace ? list.update([o.v]) : list.add(o.v); break;
      case "map": o.v === null ? map.remove(o.k) : map.put(o.k, o.v); break;
      case "clear": for (const s of all) s.clear(); break;
      case "read": seen.push(toJson([value.value(), red.get(), agg.get(), list.get(), map.entries().sort(), map.isEmpty(), b.size()])); break;
      case "snapshot": seen.push(...canon(b.snapshot())); break;
    }
  }
  seen.push(...canon(b.snapshot()), `size=${b.size()}`, `entries=${b.entries("agg").map((e) => toJson(e)).sort().join()}`);
  return seen;
}

describe("embedded-KV (lmdb) keyed state", () => {
  test.prop([ops, fc.integer({ min: 1, max: 8 })], { numRuns: 300 })("behaves exactly like the heap backend (model-based)", (script, buffer) => {
    const k = kv(undefined, buffer);
    try {
      expect(run(k, script)).toEqual(run(new HeapKeyedStateBackend({ start: 0, end: 127 }), script));
    } finally {
      k.dispose();
    }
  });

  it("snapshots restore across backends and into sub-ranges (rescale)", () => {
    const heap = new HeapKeyedStateBackend({ start: 0, end: 127 });
    const st = heap.getReducingState<bigint>("sum", (x, y) => x + y);
    for (let i = 0; i < 300; i++) {
      heap.setCurrentKey(`K${i}`, assignToKeyGroup(`K${i}`, 128));
      st.add(2n ** 80n + BigInt(i));
    }
    const full = heap.snapshot();
    const parts = [0, 1, 2].map((i) => {
      const p = kv(keyGroupRangeFor(i, 3, 128));
      p.restore(full);
      return p;
    });
    expect(canon(parts.flatMap((p) => p.snapshot()))).toEqual(canon(full));
    const back = new HeapKeyedStateBackend({ start: 0, end: 127 });
    for (const p of parts) back.restore(p.snapshot());
    expect(canon(back.snapshot())).toEqual(canon(full));
    for (const p of parts) p.dispose();
  });

  it("throws the local directory away on dispose", () => {
    const b = new EmbeddedKVStateBackend({ localDir: root }).createKeyedBackend({ start: 0, end: 127 }, "Window#0");
    b.setCurrentKey("a", assignToKeyGroup("a", 128));
    b.getValueState<number>("v").update(1);
    expect(fs.existsSync(b.dir)).toBe(true);
    b.dispose();
    expect(fs.existsSync(b.dir)).toBe(false);
  });

  test.prop([fc.integer({ min: 0, max: 127 }), fc.oneof(fc.string(), fc.integer()), fc.oneof(fc.integer(), fc.string()), fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 127 }), fc.oneof(fc.string(), fc.integer())])(
    "the key codec is injective and keeps key groups contiguous and ordered",
    (kg, key, ns, name, kg2, key2) => {
      const a = encodeStateKey(kg, key, ns, name);
      expect(keyGroupOf(a)).toBe(kg);
      const d = decodeStateKey(a);
      expect([d.keyGroup, d.key, d.namespace, d.name]).toEqual([kg, key, ns, name]);
      const b = encodeStateKey(kg2, key2, ns, name);
      if (kg < kg2) expect(compareBytes(a, b)).toBeLessThan(0);
      if (kg === kg2 && key !== key2) expect(compareBytes(a, b)).not.toBe(0);
    },
  );
});
