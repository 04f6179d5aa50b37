import { describe, expect, it } from "vitest";
import { test as ptest, fc } from "@fast-check/vitest";
import { DecimalFormatError, formatFixed, parseFixed } from "./decimal.ts";

describe("decimal", () => {
  it("parses Binance strings exactly", () => {
    expect(parseFixed("0.00012000")).toBe(12_000n);
    expect(parseFixed("61234.56000000")).toBe(6_123_456_000_000n);
    expect(parseFixed("7")).toBe(700_000_000n);
    expect(parseFixed("0.1") + parseFixed("0.2")).toBe(parseFixed("0.3"));
    expect(parseFixed("1.123456780000")).toBe(112_345_678n);
  });

  it("sums beyond 2^53 units stay exact", () => {
    const shib = parseFixed("98765432109.12345678"); // ~9.9e18 units, above 2^53 alone
    expect(shib).toBe(9_876_543_210_912_345_678n);
    let s = 0n;
    for (let i = 0; i < 1000; i++) s += shib;
    expect(formatFixed(s)).toBe("98765432109123.45678000");
    expect(s > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it.each([
    ["-1.0", "negative quantity"],
    ["1e5", "not a number"],
    ["abc", "not a number"],
    ["", "empty"],
    ["1.", "missing digits"],
    [".5", "missing digits"],
    ["1.2.3", "more than one decimal point"],
    ["0.123456789", "more than 8 fractional digits"],
    [" 1", "not a number"],
  ])("refuses %j (%s)", (input, reason) => {
    expect(() => parseFixed(input)).toThrow(DecimalFormatError);
    expect(() => parseFixed(input)).toThrow(reason);
  });

  it("formats with exactly 8 fractional digits", () => {
    expect(formatFixed(0n)).toBe("0.00000000");
    expect(formatFixed(1n)).toBe("0.00000001");
    expect(formatFixed(1_234_500_000n)).toBe("12.34500000");
    expect(formatFixed(-5n)).toBe("-0.00000005");
  });

  ptest.prop([fc.bigInt({ min: 0n, max: 10n ** 30n })])("format then parse is the identity", (v) => {
    expect(parseFixed(formatFixed(v))).toBe(v);
  });
});
