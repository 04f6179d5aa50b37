import { expect, it } from "vitest";
import { deserialize, serialize } from "./serde.ts";

it("round-trips bigints, maps and nested data exactly", () => {
  const v = { a: 2n ** 80n, m: new Map<string, unknown>([["x", [1n, "s", null]]]), n: -3, s: "q" };
  expect(deserialize(serialize(v))).toEqual(v);
});
