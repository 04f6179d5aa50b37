import { describe, expect, it } from "vitest";
import { closest, editDistance } from "./suggest.ts";

describe("did you mean", () => {
  it("counts insertions, deletions, substitutions and adjacent swaps as one edit each", () => {
    expect(editDistance("chaos", "chaos")).toBe(0);
    expect(editDistance("chaso", "chaos")).toBe(1);
    expect(editDistance("chas", "chaos")).toBe(1);
    expect(editDistance("chaoss", "chaos")).toBe(1);
    expect(editDistance("replya", "replay")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("suggests a close name or a unique prefix, and nothing for a far one", () => {
    const cmds = ["run", "chaos", "replay", "check", "report", "serve", "record", "convert", "bench"];
    expect(closest("chaoss", cmds)).toBe("chaos");
    expect(closest("replya", cmds)).toBe("replay");
    expect(closest("conv", cmds)).toBe("convert");
    expect(closest("frobnicate", cmds)).toBeUndefined();
    expect(closest("re", cmds)).toBeUndefined(); // replay, report, record: not unique
    expect(closest("--windw", ["--window", "--via", "--out"])).toBe("--window");
    expect(closest("--zzzzzzzz", ["--json"])).toBeUndefined();
  });
});
