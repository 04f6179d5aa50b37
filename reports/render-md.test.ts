import { describe, expect, it } from "vitest";
import { code, codeBlock, md, renderMarkdown } from "./render-md.ts";
import { renderHtml } from "./render-html.ts";
import { renderJson } from "./render-json.ts";
import { checkAgainstSchema } from "./schema-check.ts";
import { hostileModel, manyWindows, sampleModel } from "./sample-model.ts";
import type { RunModel } from "./model.ts";

/** Cells of a GFM table row: splits on pipes that are not backslash-escaped. */
function cells(line: string): string[] {
  return line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
}

/** Removes CommonMark code spans: a run of n unescaped backticks up to the next run of exactly n. */
function stripCodeSpans(s: string): string {
  return s.replace(/(?<![\\`])(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, "");
}

function tableAfter(text: string, heading: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("| ") && lines.indexOf(heading) < lines.indexOf(l));
  const out: string[] = [];
  for (let i = start; i < lines.length && lines[i].startsWith("|"); i++) out.push(lines[i]);
  return out;
}

describe("renderMarkdown", () => {
  const m = sampleModel();
  const text = renderMarkdown(m);

  it("opens with the verdict and the run summary", () => {
    expect(text.startsWith("# flinch report: per-symbol 1m volume\n\n> **✘ FAIL: 2 of 5 properties violated**\n")).toBe(true);
    expect(text).toContain("| Seed (--seed) | `1597463007` |\n| Engine seed (this run) | `24` |");
    expect(text).toContain(`| Trace hash | \`${m.summary.traceHash}\` |`);
    expect(text).toContain("| Backend / mode / parallelism | file / at-least-once / 2 |");
    expect(text).toContain("| Trades | 4,812 |");
    expect(text).toContain("| Restarts | 1 |");
    expect(text).toContain("| Throughput | 5,707 trades/s (wall 843.2 ms) |");
    expect(text).toContain("| Virtual time | 2024-05-01T12:00:00Z–12:06:02.100Z (6m 02s) |");
  });

  it("marks properties ✔, ✘ and ?", () => {
    expect(text).toContain("- ✘ **committed output equals the oracle**: 2 of 12 windows differ");
    expect(text).toContain("- ✔ **every restore uses the latest valid complete checkpoint**: 1 restore");
    expect(text).toContain("- ? **same seed, same trace hash**: not checked");
  });

  it("gives each violation its replay command verbatim in a code block", () => {
    expect(text).toContain("## Violations (2)");
    // Once at the top (both violations replay with the same command), once per violation.
    expect(text).toContain("> **✘ FAIL: 2 of 5 properties violated**\n\nReplay both violations:\n\n```sh\n" + m.violations[0].replay + "\n```\n");
    expect(text.split("```sh\n" + m.violations[0].replay + "\n```").length - 1).toBe(3);
  });

  it("marks the wrong-sum and duplicate rows and their differing cells", () => {
    const rows = tableAfter(text, "## Windows: expected vs committed");
    expect(rows).toHaveLength(2 + 12);
    const wrong = rows.find((r) => r.includes("wrong-sum"))!;
    expect(cells(wrong)).toEqual(["✘", "ETHUSDT", "2024-05-01T12:03:00Z–12:04:00Z", "12.05000000", "410", "**12.36500000**", "**419**", "1", "**wrong-sum**"]);
    expect(cells(rows.find((r) => r.includes("duplicate"))!).slice(5)).toEqual(["2.10050000", "455", "**2**", "**duplicate**"]);
    expect(rows.filter((r) => r.startsWith("| ✘ |"))).toHaveLength(2);
    expect(text).toContain("12 windows, 2 differ from the oracle.");
  });

  it("shows checkpoint statistics like Flink's UI", () => {
    const rows = tableAfter(text, "6 triggered, 5 completed, 1 failed, 0 in progress.").slice(0);
    expect(rows[0]).toBe("|  | Min | Average | Max |");
    expect(text).toContain("| ID | Status | Type | Trigger time | End to end | Sync | Async | Alignment | Acked | State size | Failure reason |");
    expect(text).toContain("| 1 | ✔ completed | checkpoint | 2024-05-01T12:01:00Z | 120 ms | 0.50 ms | 4.5 ms | 4 ms | 6/6 | 16.0 KiB |  |");
    expect(text).toContain("| 3 | ✘ failed | checkpoint | 2024-05-01T12:03:00Z | 5 s | 0.70 ms | 0 ms | 12 ms | 4/6 | 0 B | TASK\\_FAILURE: Task has failed.");
    expect(text).toContain("| 6 | ✔ completed | final checkpoint |");
  });

  it("lists late data, crashes, warnings and counters", () => {
    expect(text).toContain("| ETHUSDT | 2 | 0.45000000 |");
    expect(text).toContain("| 2024-05-01T12:03:05Z | restart #1 | from checkpoint 2 |  |");
    expect(text).toContain("- 3 trades arrived after their window fired");
    expect(text).toContain("| input.duplicates | 2 |");
  });

  it("keeps hostile text inside its cell, line and code span", () => {
    const h = renderMarkdown(hostileModel());
    // Fenced code is shown literally by every Markdown renderer; everywhere else markup must be escaped.
    const prose = stripCodeSpans(h.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, ""));
    expect(prose).not.toMatch(/(?<!\\)<(script|img)/i);
    expect(prose).not.toMatch(/(?<!\\)`/);
    expect(h).toContain("\\<script\\>alert(1)\\</script\\>");
    for (const line of h.split("\n").filter((l) => l.startsWith("|"))) {
      const n = cells(line).length;
      expect([2, 3, 4, 6, 9, 11], line).toContain(n);
    }
    // Every table row keeps the column count of its header.
    const wrong = tableAfter(h, "## Windows: expected vs committed").find((r) => r.includes("wrong-sum"))!;
    expect(cells(wrong)).toHaveLength(9);
    expect(h).toContain("- ✘ **prop \\<script\\>alert(1)\\</script\\> \"q\" 'a' &amp; \\| \\`tick\\` <br>\\# heading**: message");
    // The replay command contains ``` so its fence must be longer.
    expect(h).toContain("````sh\nflinch replay 'fixtures/<script>");
    expect(h).not.toMatch(/^```sh\nflinch replay/m);
  });

  it("escapes with helpers that cannot be broken out of", () => {
    expect(md("a|b\nc `d` *e* [f](g) <h> & \\")).toBe("a\\|b<br>c \\`d\\` \\*e\\* \\[f\\](g) \\<h\\> &amp; \\\\");
    expect(code("a`b|c")).toBe("``a`b\\|c``");
    expect(code("`x")).toBe("`` `x ``");
    expect(codeBlock("a ``` b")).toBe("````\na ``` b\n````");
  });

  it("renders an empty model", () => {
    const e = renderMarkdown(sampleModel({ summary: { ...sampleModel().summary, restarts: 0 }, windows: [], checkpoints: [], timeline: [], late: [], properties: [], violations: [], warnings: [], counters: {}, plan: [], runs: [] }));
    expect(e).toContain("> **? INCONCLUSIVE: no property was checked**");
    for (const s of ["No windows.", "No checkpoints were triggered.", "No late data.", "No crashes or restarts.", "No properties were checked."]) expect(e).toContain(s);
    expect(e).not.toContain("## Chaos runs");
  });

  it("with restarts but no recorded times (a real Flink run), says so instead of 'no restarts'", () => {
    const e = renderMarkdown(sampleModel({ summary: { ...sampleModel().summary, restarts: 3 }, checkpoints: [], timeline: [] }));
    expect(e).toContain("3 restarts; their times were not recorded (see the warnings).");
    expect(e).toContain("No checkpoint statistics were recorded (see the warnings).");
    expect(e).not.toContain("No crashes or restarts.");
  });

  it("keeps a 10k-window report bounded: all differing rows, the first 500 ok rows", () => {
    const big: RunModel = sampleModel({ windows: manyWindows(10_000, [3, 5_000, 9_999]) });
    const rows = tableAfter(renderMarkdown(big), "## Windows: expected vs committed");
    expect(rows).toHaveLength(2 + 503);
    expect(rows.filter((r) => r.startsWith("| ✘ |"))).toHaveLength(3);
    expect(renderMarkdown(big)).toContain("… 9,497 more ok windows not shown");
  });
});

describe("backends and modes side by side", () => {
  const matrix = [
    { scenario: "exactly-once", backend: "memory", mode: "exactly-once", runs: 100, passed: 100, findings: 0 },
    { scenario: "exactly-once", backend: "file", mode: "exactly-once", runs: 100, passed: 100, findings: 0 },
    { scenario: "at-least-once", backend: "kv", mode: "at-least-once", runs: 29, passed: 28, findings: 1 },
  ];

  it("shows a backend × mode table with runs, passed and findings, and a total", () => {
    const text = renderMarkdown(sampleModel({ matrix }));
    expect(text).toContain([
      "## Backends and modes (3)",
      "",
      "| Scenario | Backend | Mode | Runs | Passed | Findings |",
      "| --- | --- | --- | ---: | ---: | ---: |",
      "| exactly-once | memory | exactly-once | 100 | 100 | ✔ 0 |",
      "| exactly-once | file | exactly-once | 100 | 100 | ✔ 0 |",
      "| at-least-once | kv | at-least-once | 29 | 28 | **✘ 1** |",
      "| **total** |  |  | **229** | **228** | **1** |",
    ].join("\n"));
    expect(renderMarkdown(sampleModel())).not.toContain("Backends and modes");
  });

  it("shows the same table in HTML", () => {
    const page = renderHtml(sampleModel({ matrix }));
    expect(page).toContain('<a href="#matrix">matrix</a>');
    expect(page).toContain('<tr class="bad"><td>at-least-once</td><td>kv</td><td>at-least-once</td><td class="n">29</td><td class="n">28</td><td class="n"><span class="st bad">✘ 1</span></td></tr>');
    expect(page).toContain('<tr><th>total</th><th></th><th></th><th class="n">229</th><th class="n">228</th><th class="n">1</th></tr>');
    expect(checkAgainstSchema(JSON.parse(renderJson(sampleModel({ matrix }))))).toEqual([]);
  });

  it("links each combination's own report (a sibling directory), and marks the one being read", () => {
    const self = sampleModel().summary.runId;
    const linked = matrix.map((r, i) => ({ ...r, reportDir: i === 0 ? `/tmp/out/${self}` : `/tmp/out/run-${r.backend}` }));
    const text = renderMarkdown(sampleModel({ matrix: linked }));
    expect(text).toContain("| Scenario | Backend | Mode | Runs | Passed | Findings | Report |");
    expect(text).toContain("| exactly-once | memory | exactly-once | 100 | 100 | ✔ 0 | this report |");
    expect(text).toContain("| at-least-once | kv | at-least-once | 29 | 28 | **✘ 1** | [report](../run-kv/report.md) |");
    const page = renderHtml(sampleModel({ matrix: linked }));
    expect(page).toContain('<td class="n"><span class="st bad">✘ 1</span></td><td><a href="../run-kv/report.html">report</a></td></tr>');
    expect(page).toContain("<td><b>this report</b></td>");
    expect(checkAgainstSchema(JSON.parse(renderJson(sampleModel({ matrix: linked }))))).toEqual([]);
  });
});
