import { describe, expect } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { compareBytes, decodeStateKey, encodePart, encodeStateKey, keyGroupOf, keyGroupPrefix, type KeyPart } from "./key-codec.ts";

// Strings that stress the escaping and WTF-8 paths, alongside arbitrary code units.
const nasty = fc.constantFrom("", "\0", "a\0", "a\0\0b", "\u0001", "\uD800", "\uDC00x", "\uD83D\uDE00", "x\uD83D", "\uFFFF", "ü", "a|b");
const str = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), nasty);
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, -Number.MIN_VALUE));
const part: fc.Arbitrary<KeyPart> = fc.oneof(str, num);
const kg = fc.integer({ min: 0, max: 0xffff });
const tuple = fc.tuple(kg, part, part, str);

/** The heap backend's Map key identity: SameValueZero, and "1" differs from 1. */
const same = (a: KeyPart, b: KeyPart) => typeof a === typeof b && (a === b || (Number.isNaN(a) && Number.isNaN(b)));
const normalized = (v: KeyPart) => (v === 0 ? 0 : v);

function codePointCompare(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe("kv key codec", () => {
  test.prop([tuple], { numRuns: 2000 })("decodes what it encodes (up to -0 = 0, as Map keys)", ([g, key, ns, name]) => {
    const d = decodeStateKey(encodeStateKey(g, key, ns, name));
    expect(d.keyGroup).toBe(g);
    expect(d.key).toStrictEqual(normalized(key));
    expect(d.namespace).toStrictEqual(normalized(ns));
    expect(d.name).toBe(name);
  });

  test.prop([tuple, tuple], { numRuns: 2000 })("is injective: equal bytes exactly when the parts are the same Map keys", (a, b) => {
    const equalBytes = compareBytes(encodeStateKey(...a), encodeStateKey(...b)) === 0;
    const equalParts = a[0] === b[0] && same(a[1], b[1]) && same(a[2], b[2]) && a[3] === b[3];
    expect(equalBytes).toBe(equalParts);
  });

  test.prop([fc.tuple(kg, fc.oneof(part, fc.constant("")), part, str), part], { numRuns: 1000 })(
    "the same parts with the key and namespace swapped give other bytes (parts are self-delimiting)",
    ([g, key, ns, name], extra) => {
      fc.pre(!same(key, ns));
      expect(compareBytes(encodeStateKey(g, key, ns, name), encodeStateKey(g, ns, key, name))).not.toBe(0);
      const joined = Buffer.concat([encodePart(key), encodePart(ns)]);
      expect(compareBytes(joined, Buffer.concat([encodePart(extra), encodePart(ns)])) === 0).toBe(same(key, extra));
    },
  );

  test.prop([tuple, tuple], { numRuns: 2000 })("orders by key group first, and each key group is one contiguous range", (a, b) => {
    const x = encodeStateKey(...a);
    const y = encodeStateKey(...b);
    expect(keyGroupOf(x)).toBe(a[0]);
    if (a[0] !== b[0]) expect(Math.sign(compareBytes(x, y))).toBe(Math.sign(a[0] - b[0]));
    expect(compareBytes(keyGroupPrefix(a[0]), x)).toBeLessThanOrEqual(0);
    expect(compareBytes(x, keyGroupPrefix(a[0] + 1))).toBeLessThan(0);
  });

  test.prop([num, num])("numbers sort numerically", (a, b) => {
    fc.pre(!Number.isNaN(a) && !Number.isNaN(b));
    expect(Math.sign(compareBytes(encodePart(a), encodePart(b)))).toBe(a < b ? -1 : a > b ? 1 : 0);
  });

  test.prop([str, str])("well-formed strings sort by code point, after every number", (a, b) => {
    fc.pre(wellFormed(a) && wellFormed(b));
    expect(Math.sign(compareBytes(encodePart(a), encodePart(b)))).toBe(Math.sign(codePointCompare(a, b)));
    expect(compareBytes(encodePart(Infinity), encodePart(a))).toBeLessThan(0);
  });

  test.prop([kg])("rejects what it cannot represent", (g) => {
    expect(() => encodeStateKey(g + 0x10000, "k", 0, "s")).toThrow(RangeError);
    expect(() => encodeStateKey(g, true as unknown as string, 0, "s")).toThrow(TypeError);
    expect(() => decodeStateKey(encodeStateKey(g, "k", 0, "s").subarray(0, 5))).toThrow();
  });
});
