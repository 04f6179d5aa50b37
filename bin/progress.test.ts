import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createProgress, formatSeconds, PLAIN_INTERVAL_MS, startProgress, useColour } from "./progress.ts";

/** A stream that records what is written; `tty` makes it look like a terminal to cli-progress. */
function sink(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(w, { isTTY: tty, columns: 160 });
  return { stream: w, text: () => chunks.join("") };
}

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[\d+m/;
const savedNoColor = process.env.NO_COLOR;
afterEach(() => {
  if (savedNoColor === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = savedNoColor;
});

describe("progress when stderr is not a terminal", () => {
  it("writes one plain line at most every 10 s, then the summary", () => {
    const s = sink(false);
    let t = 0;
    const p = createProgress({ label: "chaos exactly-once", total: 100, stream: s.stream }, () => t);
    for (let done = 1; done <= 100; done++) {
      t = done * 500; // 2 runs/s: 50 s in all
      p.update(done, done >= 60 ? 1 : 0);
    }
    p.finish("100 runs, 1 violation; report: reports/out/x/report.html");
    const lines = s.text().trimEnd().split("\n");
    expect(lines).toEqual([
      "chaos exactly-once: 20/100 runs, 2.0 runs/s, 0 findings, ETA 40s",
      "chaos exactly-once: 40/100 runs, 2.0 runs/s, 0 findings, ETA 30s",
      "chaos exactly-once: 60/100 runs, 2.0 runs/s, 1 finding, ETA 20s",
      "chaos exactly-once: 80/100 runs, 2.0 runs/s, 1 finding, ETA 10s",
      "chaos exactly-once: 100/100 runs, 2.0 runs/s, 1 finding",
      "100 runs, 1 violation; report: reports/out/x/report.html",
    ]);
    expect(s.text()).not.toMatch(SGR);
  });

  it("says nothing but the summary for a short run, and finish is idempotent", () => {
    const s = sink(false);
    let t = 0;
    const p = createProgress({ label: "x", stream: s.stream }, () => t);
    p.update(1, 0);
    t = 9_999;
    p.update(2, 0);
    p.finish("done");
    p.finish("done again");
    p.update(3, 0);
    expect(s.text()).toBe("done\n");
  });

  it("without a total shows counts and rate, no ETA", () => {
    const s = sink(false);
    let t = 0;
    const p = createProgress({ label: "bench", stream: s.stream }, () => t);
    t = PLAIN_INTERVAL_MS;
    p.update(5, 0);
    expect(s.text()).toBe("bench: 5 runs, 0.5 runs/s, 0 findings\n");
  });
});

describe("progress on a terminal", () => {
  it("draws a bar with done/total, rate, findings and ETA, in colour, and clears it for the summary", () => {
    delete process.env.NO_COLOR;
    const s = sink(true);
    let t = 0;
    const p = createProgress({ label: "chaos", total: 10, stream: s.stream }, () => t);
    t = 2_000;
    p.update(4, 2);
    // cli-progress throttles synchronous redraws; stop() always draws the last state.
    p.finish("10 runs, 2 violations");
    const out = s.text();
    expect(out).toMatch(/chaos .*█+░+.* 4\/10 runs \| 2\.0 runs\/s \| .*2 findings.* \| ETA 3s/);
    expect(out).toMatch(SGR);
    expect(out.endsWith("10 runs, 2 violations\n")).toBe(true);
  });

  it("uses no colour under NO_COLOR", () => {
    process.env.NO_COLOR = "1";
    const s = sink(true);
    const p = startProgress({ label: "chaos", total: 3, stream: s.stream });
    p.update(1, 1);
    p.finish("3 runs");
    expect(s.text()).toMatch(/1\/3 runs/);
    expect(s.text()).not.toMatch(SGR);
  });

  it("colour needs a TTY and no NO_COLOR", () => {
    expect(useColour(sink(true).stream, {})).toBe(true);
    expect(useColour(sink(true).stream, { NO_COLOR: "1" })).toBe(false);
    expect(useColour(sink(false).stream, {})).toBe(false);
  });
});

describe("formatSeconds", () => {
  it("never prints 60 seconds in a minute", () => {
    expect([0, 59, 60, 119, 3599, 3600, 7260].map(formatSeconds)).toEqual(["0s", "59s", "1m 00s", "1m 59s", "59m 59s", "1h 00m", "2h 01m"]);
  });
});
