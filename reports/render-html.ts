/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no external URLs) that
 * can be attached to a CI run or mailed. All markup goes through html``, which escapes every
 * interpolated model string; symbols and messages come from fixtures and exceptions.
 */
import type { MatrixRow, RunModel, WindowResultRow } from "./model.ts";
import {
  checkpointKind, checkpointStatusLabel, checkpointSummary, fmtDuration, fmtStateSize, fmtInt, fmtTime, fmtWindow,
  fmtSpan, headlineReplay, html, matrixLink, replaySeedNote, matrixTotals, propertyMark, seedRows, raw, SafeHtml, selectWindowRows, verdict, VERDICT_WORD, verdictLine, windowDiffs,
} from "./format.ts";
import { renderTimeline } from "./timeline-svg.ts";

const CSS = `
:root{--ok:#2e9d57;--bad:#d64545;--warn:#e0a526;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
main{max-width:1320px;margin:0 auto;padding:0 24px 48px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
pre{background:var(--head);border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;white-space:pre-wrap;word-break:break-all}
h1{font-size:22px;margin:20px 0 4px}h2{font-size:17px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
.banner{padding:14px 24px;color:#fff;font-size:18px;font-weight:600}.banner small{display:block;font-weight:400;font-size:13px;opacity:.9}
.banner.pass{background:var(--ok)}.banner.fail{background:var(--bad)}.banner.unknown{background:#9a6700}
nav{margin:8px 0 0;font-size:13px}nav a{margin-right:14px;color:#0969da;text-decoration:none}
dl.summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:4px 28px;margin:16px 0;grid-auto-flow:dense}
dl.summary div{display:flex;gap:10px;border-bottom:1px dotted var(--line);padding:3px 0}dl.summary div.wide{grid-column:1/-1}
dt{color:var(--muted);min-width:130px;flex:none}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 9px;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600;position:sticky;top:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.bad td{background:#fdecec}td.diff{font-weight:700;color:#b42318}
.mark{font-weight:700;text-align:center}.mark.t{color:var(--ok)}.mark.f{color:var(--bad)}.mark.u{color:#9a6700}
.st{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;color:#fff;white-space:nowrap}
.st.completed,.st.ok{background:var(--ok)}.st.failed,.st.bad{background:var(--bad)}.st.in_progress{background:var(--warn)}
.card{border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:6px;padding:8px 14px;margin:10px 0}
.replay{margin:14px 0 4px;padding:8px 14px;border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:6px}.replay pre{margin:6px 0 2px}
.card h3{margin:4px 0;font-size:15px}.muted{color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12.5px;color:var(--muted);margin:4px 0 0 120px}
.legend i{display:inline-block;width:14px;height:10px;margin-right:5px;vertical-align:middle;border-radius:2px}
svg{display:block;max-width:100%;font-family:inherit}
svg .grid{stroke:#eef1f4}svg .axis{stroke:#8c959f}svg .tick{font-size:11px;fill:var(--muted);text-anchor:middle}
svg .lane{font-size:12px;fill:var(--fg);text-anchor:end;dominant-baseline:middle}
svg .cpid{font-size:10px;fill:var(--muted)}svg .wmscale{font-size:10px;fill:var(--muted);text-anchor:end}
svg .badwin{fill:#d64545;fill-opacity:.25;stroke:#d64545}svg .wmbox{fill:#fbfcfd;stroke:#eef1f4}svg .wm{fill:none;stroke-linejoin:round}
svg .crash line{stroke:var(--bad);stroke-width:1;stroke-dasharray:3 3;opacity:.6}svg .crash path{stroke:var(--bad);stroke-width:3;fill:none}
svg .restart line{stroke:#0969da;stroke-width:1;stroke-dasharray:6 3;opacity:.6}svg .restart path{fill:#0969da}
`;

function section(id: string, title: string, body: SafeHtml | SafeHtml[]): SafeHtml {
  return html`<section id="${id}"><h2>${title}</h2>${body}</section>`;
}

const none = (what: string) => html`<p class="muted">${what}</p>`;
const num = (v: string | number | SafeHtml) => html`<td class="n">${typeof v === "number" ? fmtInt(v) : v}</td>`;

/** Both seeds in one sentence, with the one the replay line uses named as such. */
function seedSentence(m: RunModel): SafeHtml {
  const s = m.summary;
  const note = replaySeedNote(m);
  return note === "the replay line passes it with --engine-seed"
    ? html`<span class="mono">${s.userSeed}</span> given with --seed; the run shown used engine seed <span class="mono">${s.engineSeed}</span>, drawn from it (${note})`
    : html`<span class="mono">${s.userSeed}</span> given with --seed${note ? ` (${note})` : ""}; the run shown used engine seed <span class="mono">${s.engineSeed}</span>, drawn from it`;
}

function summary(m: RunModel): SafeHtml {
  const s = m.summary;
  // Wide items hold long unbreakable values (a sha-256, file lists); in a narrow column they would wrap mid-word.
  const wide = new Set(["Trace hash", "Inputs", "Seeds", ...(s.failureReason ? ["Job status"] : [])]);
  const seeds = seedRows(s);
  // Two seeds in one sentence, so nobody mistakes the engine seed for the one to pass back.
  const seedItem: [string, SafeHtml] = seeds.length === 2
    ? ["Seeds", seedSentence(m)]
    : [seeds[0][0], html`<span class="mono">${seeds[0][1]}</span>`];
  const items: [string, SafeHtml | string][] = [
    ["Job status", s.status + (s.failureReason ? `: ${s.failureReason}` : "")],
    ["Run", html`<span class="mono">${s.runId}</span> (${s.command})`],
    seedItem,
    ["Backend", s.backend], ["Mode", s.mode], ["Parallelism", String(s.parallelism)],
    ["Checkpointing", (s.checkpointInterval === null ? "off" : `every ${fmtDuration(s.checkpointInterval)}`) + (s.checkpointStorage ? `, ${s.checkpointStorage}` : "")],
    ["Restart strategy", s.restartStrategy],
    ["Trades", fmtInt(s.trades)], ["Restarts", fmtInt(s.restarts)],
    ["Throughput", `${fmtInt(Math.round(s.tradesPerSec))} trades/s (wall ${fmtDuration(s.wallMs)})`],
    ["Virtual time", `${fmtSpan(s.startTime, s.endTime)} (${fmtDuration(s.endTime - s.startTime)})`],
    ["Trace hash", html`<span class="mono">${s.traceHash}</span>`],
    ["Inputs", s.inputs.join(", ") || "–"],
  ];
  return html`<dl class="summary">${items.map(([k, v]) => html`<div${raw(wide.has(k) ? ' class="wide"' : "")}><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

function timeline(m: RunModel): SafeHtml {
  const t = renderTimeline(m);
  if (!t) return none("No timeline events were recorded.");
  const sw = (color: string, label: string) => html`<span><i style="${raw(`background:${color}`)}"></i>${label}</span>`;
  return html`${t.svg}<div class="legend">${sw("#2e9d57", "checkpoint completed")}${sw("#d64545", "checkpoint failed")}${sw("#e0a526", "checkpoint in progress")}
    <span><b style="color:#d64545">✕</b> crash</span><span><b style="color:#0969da">◆</b> restart</span>
    ${m.windows.some((w) => w.status !== "ok") ? sw("rgba(214,69,69,.35)", "window that differs from the oracle") : ""}
    ${t.tasks.map((k) => sw(k.color, `watermark ${k.task}`))}<span>hover a mark for details</span></div>`;
}

function properties(m: RunModel): SafeHtml {
  if (!m.properties.length) return none("No properties were checked.");
  const cls = (v: boolean | "unknown") => (v === true ? "t" : v === false ? "f" : "u");
  return html`<table><thead><tr><th></th><th>Property</th><th>Result</th></tr></thead><tbody>${m.properties.map((p) =>
    html`<tr${raw(p.valid === false ? ' class="bad"' : "")}><td class="mark ${cls(p.valid)}">${propertyMark(p.valid)}</td><td>${p.name}</td><td>${p.message}</td></tr>`)}</tbody></table>`;
}

function violations(m: RunModel): SafeHtml {
  if (!m.violations.length) return none("None.");
  return html`${m.violations.map((v, i) => html`<div class="card"><h3>${i + 1}. ${v.property}</h3><p>${v.message}</p>
    <p class="muted">Seed <code>${v.seed}</code>${v.engineSeed !== undefined && v.engineSeed !== v.seed ? html` (engine seed <code>${v.engineSeed}</code>)` : ""}${v.path !== undefined ? html`, path <code>${v.path}</code>` : ""}. Replay with:</p>
    <pre><code>${v.replay}</code></pre>
    ${v.faults?.length ? html`<details><summary>Faults of the counterexample (${v.faults.length})</summary><pre><code>${JSON.stringify(v.faults, null, 2)}</code></pre></details>` : ""}</div>`)}`;
}

function windowRow(w: WindowResultRow): SafeHtml {
  const bad = w.status !== "ok";
  const d = windowDiffs(w);
  const cell = (v: string, diff: boolean) => html`<td class="n${raw(bad && diff ? " diff" : "")}">${v}</td>`;
  return html`<tr${raw(bad ? ' class="bad"' : "")}><td>${w.symbol}</td><td class="n">${fmtWindow(w)}</td>
    ${num(w.expectedQuantity ?? "–")}${num(w.expectedCount ?? "–")}${cell(w.committedQuantity ?? "–", d.quantity)}
    ${cell(w.committedCount === null ? "–" : fmtInt(w.committedCount), d.count)}${cell(String(w.commits), d.commits)}
    <td><span class="st ${bad ? "bad" : "ok"}">${w.status}</span></td></tr>`;
}

function windows(m: RunModel): SafeHtml {
  if (!m.windows.length) return none("No windows.");
  const sel = selectWindowRows(m.windows);
  return html`<p>${fmtInt(m.windows.length)} windows, <b>${fmtInt(sel.differing)}</b> ${sel.differing === 1 ? "differs" : "differ"} from the oracle (highlighted).</p>
    <table><thead><tr><th>Symbol</th><th>Window (UTC)</th><th class="n">Expected qty</th><th class="n">Expected n</th><th class="n">Committed qty</th><th class="n">Committed n</th><th class="n">Commits</th><th>Status</th></tr></thead>
    <tbody>${sel.rows.map(windowRow)}</tbody></table>
    ${sel.elidedOk > 0 ? html`<p class="muted">… ${fmtInt(sel.elidedOk)} more ok windows not shown: every differing row and the first 500 ok rows are listed; run.json has them all.</p>` : ""}`;
}

function checkpoints(m: RunModel): SafeHtml {
  if (!m.checkpoints.length) return none(m.summary.restarts > 0 ? "No checkpoint statistics were recorded (see the warnings)." : "No checkpoints were triggered.");
  const sum = checkpointSummary(m.checkpoints);
  return html`<p>${sum.counts}.</p>
    <table><thead><tr><th></th><th class="n">Min</th><th class="n">Average</th><th class="n">Max</th></tr></thead><tbody>
    ${sum.rows.map((r) => html`<tr><td>${r.label}</td>${num(r.min)}${num(r.avg)}${num(r.max)}</tr>`)}</tbody></table>
    <table><thead><tr><th class="n">ID</th><th>Status</th><th>Type</th><th>Trigger time</th><th class="n">End to end</th><th class="n">Sync</th><th class="n">Async</th><th class="n">Alignment</th><th class="n">Acked</th><th class="n">State size</th><th>Failure reason</th></tr></thead><tbody>
    ${m.checkpoints.map((c) => html`<tr${raw(c.status === "failed" ? ' class="bad"' : "")}>${num(c.id)}<td><span class="st ${c.status}">${checkpointStatusLabel(c.status)}</span></td>
      <td>${checkpointKind(c)}</td><td class="n">${fmtTime(c.triggerTime)}</td>${num(fmtDuration(c.endToEndMs))}${num(fmtDuration(c.syncWallMs))}
      ${num(fmtDuration(c.asyncWallMs))}${num(fmtDuration(c.alignmentMs))}${num(`${c.acknowledged}/${c.total}`)}${num(fmtStateSize(c.stateBytes))}<td>${c.failureReason ?? ""}</td></tr>`)}
    </tbody></table><p class="muted">Sync and async durations are wall clock and differ between runs of the same seed; everything else is virtual time.</p>`;
}

function simpleTable(head: string[], rows: (string | number | SafeHtml)[][], numeric: boolean[]): SafeHtml {
  return html`<table><thead><tr>${head.map((h, i) => html`<th${raw(numeric[i] ? ' class="n"' : "")}>${h}</th>`)}</tr></thead><tbody>${rows.map((r) =>
    html`<tr>${r.map((v, i) => (numeric[i] ? num(v) : html`<td>${v}</td>`))}</tr>`)}</tbody></table>`;
}

function matrix(m: RunModel): SafeHtml {
  const rows = m.matrix ?? [];
  const t = matrixTotals(rows);
  const findings = (n: number) => html`<td class="n">${n ? html`<span class="st bad">✘ ${fmtInt(n)}</span>` : html`<span class="st ok">✔ 0</span>`}</td>`;
  const linked = rows.some((r) => r.reportDir);
  const link = (r: MatrixRow) => {
    const l = matrixLink(m, r, "report.html");
    return html`<td>${!l ? "" : l.self ? html`<b>this report</b>` : html`<a href="${l.href}">report</a>`}</td>`;
  };
  return html`<table><thead><tr><th>Scenario</th><th>Backend</th><th>Mode</th><th class="n">Runs</th><th class="n">Passed</th><th class="n">Findings</th>${linked ? html`<th>Report</th>` : html``}</tr></thead><tbody>
    ${rows.map((r) => html`<tr${raw(r.findings ? ' class="bad"' : "")}><td>${r.scenario}</td><td>${r.backend}</td><td>${r.mode}</td>${num(r.runs)}${num(r.passed)}${findings(r.findings)}${linked ? link(r) : html``}</tr>`)}
    <tr><th>total</th><th></th><th></th><th class="n">${fmtInt(t.runs)}</th><th class="n">${fmtInt(t.passed)}</th><th class="n">${fmtInt(t.findings)}</th>${linked ? html`<th></th>` : html``}</tr></tbody></table>`;
}

function replayBox(m: RunModel): SafeHtml {
  const r = headlineReplay(m);
  if (!r) return html``;
  return html`<div class="replay" id="replay"><b>${r.label}:</b><pre><code>${r.replay}</code></pre></div>`;
}

export function renderHtml(m: RunModel): string {
  const v = verdict(m);
  const counters = Object.entries(m.counters);
  const body = [
    m.matrix?.length ? section("matrix", `Backends and modes (${m.matrix.length})`, matrix(m)) : html``,
    section("timeline", "Timeline", timeline(m)),
    section("properties", "Properties", properties(m)),
    section("violations", `Violations (${m.violations.length})`, violations(m)),
    section("windows", "Windows: expected vs committed", windows(m)),
    section("checkpoints", "Checkpoints", checkpoints(m)),
    section("late", "Late data", m.late.length ? simpleTable(["Symbol", "Trades", "Quantity"], m.late.map((l) => [l.symbol, l.count, l.quantity]), [false, true, true]) : none("No late data.")),
    m.runs?.length ? section("runs", `Chaos runs (${m.runs.length})`, simpleTable(["#", "Seed", "Path", "Faults", "Result", "Trace hash"], m.runs.map((r, i) => [
      i + 1, html`<code>${r.seed}</code>`, html`<code>${r.path ?? "–"}</code>`, r.faults.length,
      r.valid ? "✔ valid" : `✘ ${r.property ?? "invalid"}`, html`<code>${r.traceHash.slice(0, 16)}</code>`,
    ]), [true, false, false, true, false, false])) : html``,
    section("warnings", `Warnings (${m.warnings.length})`, m.warnings.length ? html`<ul>${m.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : none("None.")),
    section("counters", "Counters", counters.length ? simpleTable(["Counter", "Value"], counters, [false, true]) : none("None.")),
    m.plan.length ? section("plan", "Plan", html`<pre>${m.plan.join("\n")}</pre>`) : html``,
  ];
  const mark = VERDICT_WORD[v];
  const links = [...(m.matrix?.length ? ["matrix"] : []), "timeline", "properties", "violations", "windows", "checkpoints", "late", ...(m.runs?.length ? ["runs"] : []), "warnings", "counters"];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${`flinch ${mark.slice(2)}: ${m.summary.jobName} (${m.summary.runId})`}</title><style>${raw(CSS)}</style></head>
<body><header class="banner ${v}">${mark}<small>${verdictLine(m)}</small></header>
<main><h1>${m.summary.jobName}</h1><nav>${links.map((l) => html`<a href="#${l}">${l}</a>`)}</nav>
${replayBox(m)}${summary(m)}${body}
<footer class="muted"><p>flinch run model version ${m.version}; the full model is in run.json next to this page.</p></footer></main></body></html>
`.value;
}
