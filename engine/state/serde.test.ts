import { expect, it } from "vitest";
import { deserialize, serialize } from "./serde.ts";

it("round-trips bigints, maps and nested data exactly", () => {
  const v = { a: 2n ** 80n, m: new Map<string, unknown>([["x", [1n, "s", null]]]), n: -3, s: "q" };
  expect(deserialize(serialize(v))).toEqual(v);
});

import { test, fc } from "@fast-check/vitest";
import { fromJson, toJson } from "./serde.ts";

test.prop([fc.jsonValue()])("writes what JSON.stringify writes for plain JSON values", (v) => {
  expect(toJson(v)).toBe(JSON.stringify(v));
});

/** What keyed and operator state holds: JSON values, bigints (quantities) and Maps (MapState) — never undefined. */
const stateValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)) /* JSON has no -0 */, fc.boolean(), fc.constant(null), fc.bigInt(),
    fc.array(tie("value")),
    fc.dictionary(fc.string(), tie("value")),
    fc.array(fc.tuple(fc.oneof(fc.string(), fc.integer()), tie("value"))).map((es) => new Map(es)),
  ),
})).value;

test.prop([stateValue], { numRuns: 300 })("round-trips bigints and maps inside any state value", (v) => {
  expect(fromJson(toJson(v))).toEqual(v);
});

it("round-trips Sets (user function state), which plain JSON would write as {}", () => {
  const v = { s: new Set([1, "a", 3n]), nested: [new Set<unknown>([new Map([["k", 1]])])] };
  expect(deserialize(serialize(v))).toEqual(v);
});
