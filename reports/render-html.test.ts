import { describe, expect, it } from "vitest";
import { renderHtml } from "./render-html.ts";
import { hostileModel, manyWindows, sampleModel } from "./sample-model.ts";
import type { RunModel } from "./model.ts";

const between = (s: string, from: string, to: string) => s.slice(s.indexOf(from), s.indexOf(to, s.indexOf(from)));
const count = (s: string, needle: string | RegExp) => s.split(needle).length - 1;
const emptyModel = (): RunModel =>
  sampleModel({ summary: { ...sampleModel().summary, restarts: 0 }, windows: [], checkpoints: [], timeline: [], late: [], properties: [], violations: [], warnings: [], counters: {}, plan: [], runs: undefined });

describe("renderHtml", () => {
  const m = sampleModel();
  const page = renderHtml(m);

  it("is one self-contained page: no scripts, no external URLs", () => {
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page.trimEnd().endsWith("</html>")).toBe(true);
    expect(page).not.toMatch(/<script|<link|<img|<iframe|https?:|url\(|@import|src=/i);
    expect(count(page, "<style>")).toBe(1);
  });

  it("shows a fail banner and the run summary", () => {
    expect(page).toContain('<header class="banner fail">✘ FAIL<small>2 of 5 properties violated</small></header>');
    expect(renderHtml(sampleModel({ properties: m.properties.map((p) => ({ ...p, valid: true })), violations: [] }))).toContain('<header class="banner pass">✔ PASS<small>all 5 properties held</small>');
    for (const s of ["<dt>Seeds</dt><dd><span class=\"mono\">1597463007</span> given with --seed (the replay line repeats it); the run shown used engine seed <span class=\"mono\">24</span>, drawn from it</dd>", `<span class="mono">${m.summary.traceHash}</span>`,
      "<dt>Backend</dt><dd>file</dd>", "<dt>Mode</dt><dd>at-least-once</dd>", "<dt>Parallelism</dt><dd>2</dd>",
      "<dt>Trades</dt><dd>4,812</dd>", "<dt>Restarts</dt><dd>1</dd>", "<dt>Throughput</dt><dd>5,707 trades/s (wall 843.2 ms)</dd>"]) {
      expect(page).toContain(s);
    }
  });

  it("says which seed the replay line uses: --seed repeated, --engine-seed named, or neither", () => {
    const withReplay = (replay: string) => renderHtml(sampleModel({ violations: m.violations.map((v) => ({ ...v, replay })) }));
    expect(withReplay("npx flinch chaos --scenario x --engine-seed 24 --faults 'crash@task.process#3'")).toContain(
      '<dt>Seeds</dt><dd><span class="mono">1597463007</span> given with --seed; the run shown used engine seed <span class="mono">24</span>, drawn from it (the replay line passes it with --engine-seed)</dd>');
    expect(withReplay("npx flinch chaos --scenario x --seed 1597463007 --run 3 --path 0:1")).toContain("given with --seed (the replay line repeats it); the run shown");
    // A seed that only starts like the user's is not it.
    expect(withReplay("npx flinch chaos --scenario x --seed 15974630070")).toContain('<span class="mono">1597463007</span> given with --seed; the run shown used engine seed <span class="mono">24</span>, drawn from it</dd>');
  });

  it("draws the timeline: checkpoint bars by status, crashes, the restart and one watermark line per task", () => {
    const svg = between(page, "<svg", "</svg>");
    expect(count(svg, 'fill="#2e9d57"><title>checkpoint')).toBe(5);
    expect(count(svg, 'fill="#d64545"><title>checkpoint 3: failed')).toBe(1);
    expect(count(svg, '<g class="crash"><title>crash at')).toBe(2);
    expect(svg).toContain("<title>crash at 2024-05-01T12:03:00.040Z in Window(sum)#1 at checkpoint.async-write\ninjected crash");
    expect(svg).toContain('<g class="restart"><title>restart #1 at 2024-05-01T12:03:05Z, from checkpoint 2</title>');
    expect(count(svg, 'class="wm"><title>Source: Binance#')).toBe(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(page).toContain("watermark Source: Binance#0</span>");
  });

  it("ignores watermark sentinels so the real lines keep their scale", () => {
    const mm = sampleModel();
    mm.timeline.push({ kind: "watermark", time: mm.summary.endTime, task: "Source: Binance#0", watermark: Number.MAX_SAFE_INTEGER + 2 });
    mm.timeline.push({ kind: "watermark", time: mm.summary.startTime, task: "Source: Binance#1", watermark: -9223372036854775808 });
    expect(between(renderHtml(mm), "<svg", "</svg>")).toBe(between(page, "<svg", "</svg>"));
  });

  it("highlights the wrong-sum and duplicate rows and their differing cells", () => {
    const table = between(page, '<section id="windows">', "</section>");
    expect(count(table, '<tr class="bad">')).toBe(2);
    const wrong = between(table, '<tr class="bad"><td>ETHUSDT</td><td class="n">2024-05-01T12:03:00Z–12:04:00Z</td>', "</tr>");
    expect(wrong).toContain('<td class="n diff">12.36500000</td>');
    expect(wrong).toContain('<td class="n diff">419</td>');
    expect(wrong).toContain('<span class="st bad">wrong-sum</span>');
    const dup = between(table, '<tr class="bad"><td>BTCUSDT</td><td class="n">2024-05-01T12:02:00Z', "</tr>");
    expect(dup).toContain('<td class="n diff">2</td>');
    expect(count(table, '<span class="st ok">ok</span>')).toBe(10);
  });

  it("lists violations with their replay commands, checkpoints, late data, warnings and counters", () => {
    expect(page).toContain(`<div class="replay" id="replay"><b>Replay both violations:</b><pre><code>${m.violations[0].replay}</code></pre></div>`);
    expect(count(page, `<pre><code>${m.violations[0].replay}</code></pre>`)).toBe(3);
    const cps = between(page, '<section id="checkpoints">', "</section>");
    expect(cps).toContain("<p>6 triggered, 5 completed, 1 failed, 0 in progress.</p>");
    expect(cps).toContain('<tr class="bad"><td class="n">3</td><td><span class="st failed">failed</span></td>');
    expect(cps).toContain('<td class="n">4/6</td><td class="n">0 B</td><td>TASK_FAILURE: Task has failed.');
    expect(cps).toContain('<td class="n">2024-05-01T12:01:00Z</td><td class="n">120 ms</td><td class="n">0.50 ms</td>');
    expect(cps).toContain('<td class="n">16.0 KiB</td>');
    expect(page).toContain('<tr><td>ETHUSDT</td><td class="n">2</td><td class="n">0.45000000</td></tr>');
    expect(page).toContain("<li>3 trades arrived after their window fired and went to the late-data side output</li>");
    expect(page).toContain('<tr><td>input.duplicates</td><td class="n">2</td></tr>');
  });

  it("escapes every string from the model", () => {
    const h = renderHtml(hostileModel());
    expect(h).not.toMatch(/<script|<img/i);
    expect(h).not.toContain("'a'");
    expect(h).not.toContain('"q"');
    const esc = "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#39;a&#39; &amp; | `tick` \n# heading";
    for (const where of [`<td>${esc}</td>`, `<li>warning ${esc}</li>`, `<p>violation ${esc}</p>`, `<h3>1. prop ${esc}</h3>`,
      `<title>flinch FAIL: job ${esc}`, `<td>reason ${esc}</td>`, `task ${esc}: watermark`, `in task ${esc} at checkpoint.async-write\nerror ${esc}</title>`,
      `<td>counter ${esc}</td>`, "&lt;img src=x onerror=alert(2)&gt;", `<pre><code>flinch replay &#39;fixtures/${esc}.jsonl&#39; --seed \`\`\`x</code></pre>`]) {
      expect(h).toContain(where);
    }
    // Outside the CSS, every "<" opens one of our own tags.
    const tags = new Set([...h.replace(/<style>[\s\S]*<\/style>/, "").matchAll(/<\/?([a-zA-Z0-9]+)/g)].map((x) => x[1].toLowerCase()));
    expect([...tags].sort()).toEqual(["a", "b", "body", "code", "dd", "details", "div", "dl", "dt", "footer", "g", "h1", "h2", "h3", "head", "header",
      "html", "i", "li", "line", "main", "meta", "nav", "p", "path", "pre", "rect", "section", "small", "span", "summary", "svg", "table",
      "tbody", "td", "text", "th", "thead", "title", "tr", "ul"]);
  });

  it("renders an empty model", () => {
    const e = renderHtml(emptyModel());
    expect(e).toContain('<header class="banner unknown">? INCONCLUSIVE<small>no property was checked</small>');
    for (const s of ["No timeline events were recorded.", "No windows.", "No checkpoints were triggered.", "No late data.", "No properties were checked."]) {
      expect(e).toContain(s);
    }
    expect(e).not.toContain("<svg");
    expect(e).not.toContain('id="runs"');
  });

  it("keeps a 10k-window page usable: every differing row, the first 500 ok rows, and a count of the rest", () => {
    const bad = [7, 2_500, 9_999];
    const big = renderHtml(sampleModel({ windows: manyWindows(10_000, bad) }));
    const table = between(big, '<section id="windows">', "</section>");
    expect(count(table, "<tr")).toBe(1 + 503);
    expect(count(table, '<tr class="bad">')).toBe(3);
    expect(table).toContain("<p>10,000 windows, <b>3</b> differ from the oracle (highlighted).</p>");
    expect(table).toContain("… 9,497 more ok windows not shown");
    expect(big.length).toBeLessThan(400_000);
  });

  it("is deterministic", () => {
    expect(renderHtml(sampleModel())).toBe(page);
  });
});
