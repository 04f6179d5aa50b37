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

test.prop([fc.anything({ withBigInt: true, withMap: true, withNullPrototype: false, withObjectString: false, withBoxedValues: false, withSet: false, withTypedArray: false, withSparseArray: false, withDate: false })])(
  "round-trips bigints and maps inside anything",
  (v) => {
    const back = fromJson(toJson(v));
    expect(toJson(back)).toBe(toJson(v));
  },
);
