import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { decodeValue, ValueWriter } from "./value-codec.ts";

const w = new ValueWriter();
/** A copy: the writer's buffer is reused by the next encode. */
const enc = (v: unknown) => Buffer.from(w.encode(v));
const keysOf = (v: unknown) => Object.keys(v as object);

describe("kv value codec", () => {
  test.prop([fc.oneof(fc.bigInt(), fc.bigInt({ min: -(2n ** 600n), max: 2n ** 600n }), fc.double()), fc.oneof(fc.nat(), fc.double())])(
    "a { sum, count } round-trips exactly in its fixed form, whatever the sum's size or kind",
    (sum, count) => {
      const bytes = enc({ sum, count });
      expect(bytes[0]).toBe(0xc1);
      const back = decodeValue(bytes) as { sum: unknown; count: unknown };
      expect(back).toStrictEqual({ sum, count });
      expect(keysOf(back)).toEqual(["sum", "count"]);
      expect(Object.is(back.sum, sum) && Object.is(back.count, count)).toBe(true);
    },
  );

  it("uses 18 bytes for a sum within 64 bits and for a number sum", () => {
    expect(enc({ sum: 2n ** 63n - 1n, count: 3 }).length).toBe(18);
    expect(enc({ sum: -(2n ** 63n), count: 3 }).length).toBe(18);
    expect(enc({ sum: 1.5, count: 3 }).length).toBe(18);
    expect(enc({ sum: 2n ** 63n, count: 3 }).length).toBe(11 + 8);
  });

  it("leaves every other shape to msgpack, unchanged: other key orders, extra keys, other prototypes", () => {
    class Acc {
      constructor(public sum: bigint, public count: number) {}
    }
    const bare = Object.assign(Object.create(null), { sum: 1n, count: 1 });
    const cases: unknown[] = [
      { count: 1, sum: 2n },
      { sum: 1n, count: 2, extra: true },
      { sum: 1n, count: 2n },
      { sum: "1", count: 2 },
      { sum: 1n },
      [1n, 2],
      new Map<unknown, unknown>([[1n, { sum: 1n, count: 1 }]]),
      { nested: { sum: 1n, count: 1 }, buf: Buffer.from([0xc1, 1, 2]) },
      "\u00c1",
      0xc1,
      null,
    ];
    for (const v of cases) {
      const bytes = enc(v);
      expect(bytes[0]).not.toBe(0xc1);
      expect(decodeValue(bytes)).toStrictEqual(v);
    }
    expect(enc(new Acc(1n, 1))[0]).not.toBe(0xc1);
    expect(enc(bare)[0]).not.toBe(0xc1);
    expect(keysOf(decodeValue(enc({ count: 1, sum: 2n })))).toEqual(["count", "sum"]);
  });

  it("decodes embedded binary as a copy, so lmdb's reused read buffer cannot change it", () => {
    const bytes = enc({ buf: Buffer.from([1, 2, 3]) });
    const back = decodeValue(bytes) as { buf: Buffer };
    bytes.fill(0);
    expect([...back.buf]).toEqual([1, 2, 3]);
  });

  it("names an unknown fixed form instead of guessing", () => {
    expect(() => decodeValue(Buffer.from([0xc1, 0x09, 0]))).toThrow(/unknown fixed value form 9/);
  });
});
