import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { painter } from "./colour.ts";

function stream(tty: boolean): NodeJS.WriteStream {
  const w = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY: tty });
  return w;
}

describe("verdict colours", () => {
  it("colour ✔ green, ✘ red, ok green and VIOLATED red on a terminal", () => {
    const p = painter(stream(true), {});
    expect(p.mark(true)).toBe("\x1b[32m✔\x1b[0m");
    expect(p.mark(false)).toBe("\x1b[31m✘\x1b[0m");
    expect(p.mark("unknown")).toBe("\x1b[33m?\x1b[0m");
    expect(p.verdict("ok")).toBe("\x1b[32mok\x1b[0m");
    expect(p.verdict("VIOLATED")).toBe("\x1b[31mVIOLATED\x1b[0m");
  });

  it("write plain text under NO_COLOR (any non-empty value) and when not a terminal", () => {
    for (const p of [painter(stream(true), { NO_COLOR: "1" }), painter(stream(false), {})]) {
      expect(p.mark(true)).toBe("✔");
      expect(p.mark(false)).toBe("✘");
      expect(p.verdict("VIOLATED")).toBe("VIOLATED");
      expect(p("red", "x")).toBe("x");
    }
    // An empty NO_COLOR does not count (no-color.org).
    expect(painter(stream(true), { NO_COLOR: "" }).mark(true)).toBe("\x1b[32m✔\x1b[0m");
  });
});
