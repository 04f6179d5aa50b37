import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { assignToKeyGroup, javaHashCode, murmurHash } from "./keygroups.ts";
import { decodeKey, encodeKey, isEncodedKey, javaValueHash, KeyEncodingError } from "./key-encoding.ts";

describe("composite and non-primitive keys", () => {
  it("leaves string and safe-integer keys untouched, so their Flink key groups never change", () => {
    for (const k of ["BTCUSDT", "ETHUSDT", "", "a", 0, 7, -3, 2 ** 40]) expect(encodeKey(k)).toBe(k);
    expect(assignToKeyGroup(encodeKey("BTCUSDT"), 128)).toBe(2);
    expect(assignToKeyGroup(encodeKey("ETHUSDT"), 128)).toBe(30);
  });

  it("hashes tuples as Flink's TupleN#hashCode, values as Long / Double / Boolean / String", () => {
    // Tuple2.of("a", 1).hashCode() == 31 * "a".hashCode() + 1 == 3008 on the JVM.
    expect(javaValueHash(["a", 1])).toBe(3008);
    expect(javaValueHash([1, 2])).toBe(33);
    expect(javaValueHash(["BTCUSDT", "ETHUSDT"])).toBe((Math.imul(31, javaHashCode("BTCUSDT")) + javaHashCode("ETHUSDT")) | 0);
    expect(javaValueHash(true)).toBe(1231);
    expect(javaValueHash(false)).toBe(1237);
    expect(javaValueHash(1.5)).toBe(1_073_217_536); // Double.valueOf(1.5).hashCode()
    expect(javaValueHash(2n ** 40n)).toBe(256); // Long.valueOf(1L << 40).hashCode()
    expect(javaValueHash(null)).toBe(0);
    // A Tuple1 hashes as its field: keyBy(0) on a tuple stream lands where keyBy(t -> t.f0) does.
    for (const k of [0, 1, 19, 12345, -7]) expect(assignToKeyGroup(encodeKey([k]), 128)).toBe(assignToKeyGroup(k, 128));
    expect(assignToKeyGroup(encodeKey(["a", 1]), 128)).toBe(murmurHash(3008) % 128);
  });

  it("pins the key groups of composite keys (a change here would break restoring old checkpoints)", () => {
    expect([["a", 1], [1, 2], [true, "x"], { b: 2, a: 1 }, 1.5, 10n ** 30n].map((k) => assignToKeyGroup(encodeKey(k), 128))).toMatchInlineSnapshot(`
      [
        29,
        29,
        48,
        45,
        65,
        18,
      ]
    `);
  });

  it("encodes plain objects independently of field order, and -0 as 0", () => {
    expect(encodeKey({ a: 1, b: [2, "x"] })).toBe(encodeKey({ b: [2, "x"], a: 1 }));
    expect(encodeKey([-0, 1.5])).toBe(encodeKey([0, 1.5]));
    expect(decodeKey(encodeKey({ b: 2n, a: [true, null] }))).toEqual({ a: [true, null], b: 2n });
  });

  it("keeps a string that begins with the marker apart from a composite key", () => {
    const weird = "\u0001[1]";
    const e = encodeKey(weird);
    expect(isEncodedKey(e)).toBe(true);
    expect(e).not.toBe(encodeKey([1]));
    expect(decodeKey(e)).toBe(weird);
    expect(assignToKeyGroup(e, 128)).toBe(murmurHash(javaHashCode(weird)) % 128);
  });

  it("refuses keys that cannot be serialized, naming the part", () => {
    expect(() => encodeKey([1, NaN])).toThrow(KeyEncodingError);
    expect(() => encodeKey([1, NaN])).toThrow(/key\[1\] is NaN/);
    expect(() => encodeKey({ f: () => 1 })).toThrow(/key\.f is function/);
    expect(() => encodeKey(new (class Point {})())).toThrow(/Point instance/);
    expect(() => encodeKey(undefined)).toThrow(/undefined/);
  });

  const keyArb = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.bigInt(),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 3 }),
  );

  it("the key -0 is the key 0 (found by the property below with seed 621214010)", () => {
    expect(Object.is(decodeKey(encodeKey(-0)), 0)).toBe(true);
    expect(assignToKeyGroup(encodeKey(-0), 128)).toBe(assignToKeyGroup(encodeKey(0), 128));
  });

  test.prop([keyArb])("decoding gives back the key (with -0 as 0); the key group is in range and stable", (k) => {
    const e = encodeKey(k);
    const back = decodeKey(e);
    expect(back).toEqual(Object.is(k, -0) ? 0 : k);
    const g = assignToKeyGroup(e, 128);
    expect(g).toBeGreaterThanOrEqual(0);
    expect(g).toBeLessThan(128);
    expect(assignToKeyGroup(encodeKey(back), 128)).toBe(g);
  });

  test.prop([fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 }), fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 })])(
    "distinct tuples get distinct encodings",
    (a, b) => {
      expect(encodeKey(a) === encodeKey(b)).toBe(JSON.stringify(a) === JSON.stringify(b));
    },
  );
});
