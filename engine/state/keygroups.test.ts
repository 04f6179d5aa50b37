import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { assignToKeyGroup, javaHashCode, keyGroupRangeFor, murmurHash, operatorIndexForKeyGroup } from "./keygroups.ts";

describe("key groups (Flink-compatible)", () => {
  it("hashes strings like java.lang.String#hashCode", () => {
    expect(javaHashCode("")).toBe(0);
    expect(javaHashCode("a")).toBe(97);
    expect(javaHashCode("BTCUSDT")).toBe(915_039_583);
    expect(javaHashCode("ETHUSDT")).toBe(-712_799_065);
    expect(javaHashCode("hello world")).toBe(1_794_106_052);
  });

  it("matches Flink's MathUtils.murmurHash on known values", () => {
    // Values computed on the JVM with Flink's MathUtils.murmurHash and String#hashCode.
    expect(murmurHash(0)).toBe(593_689_054);
    expect(murmurHash(1)).toBe(68_075_478);
    expect(assignToKeyGroup("BTCUSDT", 128)).toBe(2);
    expect(assignToKeyGroup("ETHUSDT", 128)).toBe(30);
    expect(assignToKeyGroup("", 128)).toBe(94);
    expect(assignToKeyGroup(2 ** 40, 128)).toBe(murmurHash(256) % 128);
  });

  test.prop([fc.string(), fc.integer({ min: 1, max: 32_768 })])("key group lies in [0, maxParallelism)", (k, maxP) => {
    const kg = assignToKeyGroup(k, maxP);
    expect(kg).toBeGreaterThanOrEqual(0);
    expect(kg).toBeLessThan(maxP);
  });

  test.prop([fc.integer({ min: 1, max: 128 }), fc.integer({ min: 0, max: 127 })])(
    "the subtask owning a key group has it in its range",
    (p, kg) => {
      const sub = operatorIndexForKeyGroup(kg, p, 128);
      const r = keyGroupRangeFor(sub, p, 128);
      expect(kg).toBeGreaterThanOrEqual(r.start);
      expect(kg).toBeLessThanOrEqual(r.end);
    },
  );
});
