import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { BinaryDecodeError, BinaryReader } from "./binary-reader.ts";
import { BinaryWriter, CHUNK_BYTES } from "./binary-writer.ts";
import { fromJson, toJson } from "./serde.ts";

const roundTrip = (...vs: unknown[]): unknown[] => {
  const w = new BinaryWriter();
  for (const v of vs) w.value(v);
  const r = new BinaryReader(w.bytes());
  const out = vs.map(() => r.value());
  expect(r.done).toBe(true);
  return out;
};

/** What keyed and operator state holds: JSON values, bigints (quantities), Maps and Sets. */
const stateValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string({ unit: "binary" }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt(),
    fc.array(tie("value")),
    fc.dictionary(fc.string(), tie("value")),
    fc.record({ sum: fc.bigInt(), count: fc.nat() }),
    fc.array(fc.tuple(fc.oneof(fc.string(), fc.integer()), tie("value"))).map((es) => new Map(es)),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.bigInt())).map((xs) => new Set(xs)),
  ),
})).value;

describe("binary value encoding", () => {
  test.prop([fc.array(stateValue, { maxLength: 8 })], { numRuns: 300 })("decodes to what the JSON codec's round trip gives", (vs) => {
    // The JSON codec's semantics are the contract: undefined -> null in arrays, dropped from objects,
    // -0 -> 0, NaN and infinities -> null; bigints, Maps and Sets exact.
    expect(roundTrip(...vs)).toEqual(vs.map((v) => fromJson(toJson(v))));
  });

  it("writes bigints exactly at every byte boundary and beyond 64 bits", () => {
    const edges: bigint[] = [0n, -1n, 1n];
    for (let bits = 7; bits <= 200; bits++) for (const d of [-1n, 0n, 1n]) edges.push((1n << BigInt(bits)) + d, -(1n << BigInt(bits)) + d);
    expect(roundTrip(...edges)).toEqual(edges);
    const w = new BinaryWriter();
    w.bigint(127n);
    w.bigint(128n);
    w.bigint(-128n);
    w.bigint(-129n);
    expect([...w.bytes()]).toEqual([1, 0x7f, 2, 0x80, 0, 1, 0x80, 2, 0x7f, 0xff]);
  });

  it("writes strings of every length class, non-ASCII and lone surrogates as UTF-8 does", () => {
    const strs = ["", "a", "x".repeat(42), "x".repeat(43), "é".repeat(42), "€".repeat(42), "𝄞".repeat(30), "a\u0000b", "\ud800", "y".repeat(100_000)];
    expect(roundTrip(...strs)).toEqual(strs.map((s) => Buffer.from(s, "utf8").toString("utf8")));
  });

  it("keeps objects past the shape table, __proto__ fields, toJSON and Dates as the JSON codec does", () => {
    const many = Array.from({ length: 100 }, (_x, i) => ({ [`f${i}`]: i, same: "s" }));
    const odd = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
    const vs = [...many, odd, { when: new Date(0) }, { toJSON: () => ({ a: 1n }) }, { keep: 1, drop: undefined, fn: () => 1 }];
    const out = roundTrip(...vs);
    expect(out).toEqual(vs.map((v) => fromJson(toJson(v))));
    expect(Object.getPrototypeOf(out[100])).toBe(Object.prototype);
    expect(Object.keys(out[100] as object)).toEqual(["__proto__", "y"]);
  });

  it("names the offset of damage instead of returning wrong values", () => {
    const w = new BinaryWriter();
    w.value({ sum: 12n, count: 3 });
    w.value([1, 2, 3]);
    const bytes = w.bytes();
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = new BinaryReader(bytes.subarray(0, cut));
      expect(() => { r.value(); r.value(); }).toThrow(BinaryDecodeError);
    }
    expect(() => new BinaryReader(new Uint8Array([99])).value()).toThrow(/unknown value tag 99 at offset 0/);
    expect(() => new BinaryReader(new Uint8Array([12, 0])).value()).toThrow(/unknown object shape 0/);
  });

  it("streams through its chunk: the sink sees every byte once, in order, the last chunk marked", () => {
    const chunks: { bytes: Uint8Array; last: boolean }[] = [];
    const w = new BinaryWriter((c, last) => chunks.push({ bytes: c.slice(), last })); // slice(): the writer reuses its chunk
    const big = Array.from({ length: 300_000 }, (_x, i) => ({ sum: BigInt(i) * 10n ** 12n, count: i }));
    for (const v of big) w.value(v);
    w.end();
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.map((c) => c.last)).toEqual([...chunks.slice(1).map(() => false), true]);
    expect(chunks.slice(0, -1).every((c) => c.bytes.length <= CHUNK_BYTES)).toBe(true);
    const all = Buffer.concat(chunks.map((c) => c.bytes));
    expect(all.length).toBe(w.length);
    const r = new BinaryReader(all);
    expect(big.map(() => r.value())).toEqual(big);
  });

  it("results of bytes() are independent copies, whatever their size (small ones share a slab)", () => {
    const sizes = [1, 63, 64, 65, 300, 2_047, 2_048, 2_049, 5_000];
    const made: [string, Uint8Array][] = [];
    // Enough results to fill several slabs, interleaved in size.
    for (let i = 0; i < 400; i++) {
      const s = "x".repeat(sizes[i % sizes.length]) + i;
      const w = new BinaryWriter();
      w.value(s);
      made.push([s, w.bytes()]);
    }
    for (const [s, b] of made) {
      const r = new BinaryReader(b);
      expect(r.value()).toBe(s);
      expect(r.done).toBe(true);
    }
    // Writing into one result changes no other.
    made[0][1].fill(0);
    expect(new BinaryReader(made[1][1]).value()).toBe(made[1][0]);
  });
});
