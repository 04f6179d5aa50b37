import { describe, expect, it } from "vitest";
import { checkpointSummary, fmtBytes, fmtDuration, fmtInt, fmtSpan, fmtTime, fmtWindow, headlineReplay, html, raw, seedRows, selectWindowRows, verdict, verdictLine } from "./format.ts";
import { manyWindows, sampleModel } from "./sample-model.ts";
import { renderTimeline } from "./timeline-svg.ts";

describe("format", () => {
  it("formats numbers, sizes, durations and times without the locale", () => {
    expect([fmtInt(0), fmtInt(999), fmtInt(1234567), fmtInt(-12345.5)]).toEqual(["0", "999", "1,234,567", "-12,345.5"]);
    expect([fmtBytes(0), fmtBytes(1023), fmtBytes(1536), fmtBytes(5 * 1024 ** 2), fmtBytes(300 * 1024 ** 3)]).toEqual(["0 B", "1023 B", "1.5 KiB", "5.0 MiB", "300 GiB"]);
    expect([fmtDuration(undefined), fmtDuration(0), fmtDuration(0.25), fmtDuration(12), fmtDuration(1500), fmtDuration(60_000), fmtDuration(125_000), fmtDuration(7_380_000)])
      .toEqual(["–", "0 ms", "0.25 ms", "12 ms", "1.50 s", "1 min", "2m 05s", "2h 03m"]);
    // Rounded once at the unit shown, then split: never "9m 60s" or "60.0 s".
    expect([fmtDuration(599_500), fmtDuration(599_400), fmtDuration(59_999), fmtDuration(9_999.9), fmtDuration(999.96), fmtDuration(10_000), fmtDuration(3_599_600), fmtDuration(3_600_000)])
      .toEqual(["10 min", "9m 59s", "1 min", "10.0 s", "1.00 s", "10 s", "1 h", "1 h"]);
    expect(fmtWindow({ start: Date.UTC(2024, 7, 9, 0, 1), end: Date.UTC(2024, 7, 9, 0, 2) })).toBe("2024-08-09T00:01:00Z–00:02:00Z");
    expect(fmtTime(Date.UTC(2024, 0, 2, 3, 4, 5, 60))).toBe("2024-01-02T03:04:05.060Z");
    expect(fmtTime(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe("2024-01-02T03:04:05Z");
    expect(fmtTime(1500)).toBe("1,500 ms");
    expect(fmtSpan(Date.UTC(2024, 0, 1, 23, 59), Date.UTC(2024, 0, 2, 0, 1))).toBe("2024-01-01T23:59:00Z–2024-01-02T00:01:00Z");
    expect(fmtSpan(0, 1500)).toBe("0 ms – 1,500 ms");
  });

  it("lets false beat unknown and unknown beat true", () => {
    const m = sampleModel();
    expect(verdict(m)).toBe("fail");
    expect(verdict({ ...m, violations: [], properties: m.properties.filter((p) => p.valid !== false) })).toBe("unknown");
    expect(verdict({ ...m, violations: [], properties: m.properties.filter((p) => p.valid === true) })).toBe("pass");
    expect(verdict({ ...m, properties: m.properties.filter((p) => p.valid === true) })).toBe("fail");
  });

  it("counts one thing in the verdict line: properties", () => {
    const m = sampleModel();
    expect(verdictLine(m)).toBe("2 of 5 properties violated");
    // A violation whose property is not listed is one more violated property, not a second kind of count.
    expect(verdictLine({ ...m, violations: [...m.violations, { ...m.violations[0], property: "trace is deterministic" }] })).toBe("3 of 6 properties violated");
    expect(verdictLine({ ...m, properties: m.properties.slice(0, 1), violations: m.violations.slice(0, 1) })).toBe("1 of 1 property violated");
    expect(verdictLine({ ...m, violations: [], properties: m.properties.filter((p) => p.valid === true) })).toBe("all 2 properties held");
  });

  it("puts one replay line at the top and says which violations it reproduces", () => {
    const m = sampleModel();
    const v = m.violations[0];
    expect(headlineReplay(m)).toEqual({ replay: v.replay, label: "Replay both violations" });
    expect(headlineReplay({ ...m, violations: [v] })!.label).toBe("Replay the violation");
    expect(headlineReplay({ ...m, violations: [v, v, v] })!.label).toBe("Replay all 3 violations");
    expect(headlineReplay({ ...m, violations: [v, { ...v, replay: "npx flinch replay F --seed 1" }] })!.label).toBe("Replay the first violation");
    expect(headlineReplay({ ...m, violations: [] })).toBeNull();
  });

  it("tells the user's seed from the engine seed, and says one seed once", () => {
    expect(seedRows({ userSeed: "42", engineSeed: "24" })).toEqual([["Seed (--seed)", "42"], ["Engine seed (this run)", "24"]]);
    expect(seedRows({ userSeed: "42", engineSeed: "42" })).toEqual([["Seed", "42"]]);
    expect(seedRows({ userSeed: null, engineSeed: "7" })).toEqual([["Engine seed", "7"]]);
  });

  it("keeps every differing window and the first ok ones, in model order", () => {
    const sel = selectWindowRows(manyWindows(20, [0, 19]), 3);
    expect(sel.rows.map((w) => w.start - sel.rows[0].start)).toEqual([0, 60_000, 120_000, 180_000, 19 * 60_000]);
    expect([sel.differing, sel.elidedOk]).toEqual([2, 15]);
  });

  it("summarizes completed checkpoints only", () => {
    const s = checkpointSummary(sampleModel().checkpoints);
    expect(s.counts).toBe("6 triggered, 5 completed, 1 failed, 0 in progress");
    expect(s.rows[0]).toEqual({ label: "End-to-end duration", min: "98 ms", avg: "129 ms", max: "150 ms" });
    expect(checkpointSummary([]).rows[4]).toEqual({ label: "State size", min: "–", avg: "–", max: "–" });
  });

  it("escapes html`` interpolations unless they are SafeHtml", () => {
    const name = `<b>"x" & 'y'</b>`;
    expect(html`<p title="${name}">${name}${raw("<br>")}${[name, 1, null, false]}</p>`.value)
      .toBe("<p title=\"&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;\">&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;<br>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;1</p>");
  });
});

describe("renderTimeline", () => {
  it("stacks concurrent checkpoints and runs an unfinished one to the end of the run", () => {
    const m = sampleModel();
    const t0 = m.summary.startTime;
    m.timeline = [
      { kind: "checkpoint", time: t0 + 1000, endTime: t0 + 200_000, id: 1, status: "completed" },
      { kind: "checkpoint", time: t0 + 100_000, endTime: t0 + 150_000, id: 2, status: "failed" },
      { kind: "checkpoint", time: t0 + 300_000, id: 3, status: "in_progress" },
    ];
    m.windows = []; // only checkpoint bars here; the wrong-window lane has its own test
    const svg = renderTimeline(m)!.svg.value;
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="(\d+)" width="([\d.]+)"/g)].map((r) => r.slice(1).map(Number));
    expect(rects).toHaveLength(3);
    expect(rects[0][1]).not.toBe(rects[1][1]);
    expect(rects[2][1]).toBe(rects[0][1]);
    expect(rects[2][0] + rects[2][2]).toBeCloseTo(1200 - 24, 0);
    expect(renderTimeline({ ...m, timeline: [] })).toBeNull();
  });

  it("draws windows that differ from the oracle in their own lane, with what went wrong", () => {
    const svg = renderTimeline(sampleModel())!.svg.value;
    expect(svg).toContain('<text x="110" y="');
    expect(svg).toContain(">Wrong windows</text>");
    const bad = [...svg.matchAll(/class="badwin"><title>([^<]*)<\/title>/g)].map((r) => r[1]);
    expect(bad).toEqual(["BTCUSDT 2024-05-01T12:02:00Z–12:03:00Z: duplicate", "ETHUSDT 2024-05-01T12:03:00Z–12:04:00Z: wrong-sum"]);
    const ok = sampleModel();
    ok.windows = ok.windows.filter((w) => w.status === "ok");
    expect(renderTimeline(ok)!.svg.value).not.toContain("Wrong windows");
  });
});
