/**
 * report.md: the report as GitHub-flavoured Markdown, for PR comments and terminals. Every
 * string from the model goes through md() or code(): symbols, task names and messages come
 * from fixtures and exceptions and must not be able to end a table row or open a code span.
 */
import type { MatrixRow, RunModel, TimelineEvent } from "./model.ts";
import {
  checkpointKind, checkpointStatusLabel, checkpointSummary, fmtDuration, fmtStateSize, fmtInt, fmtTime, fmtWindow,
  fmtSpan, headlineReplay, matrixLink, matrixTotals, propertyMark, seedRows, selectWindowRows, verdict, VERDICT_WORD, verdictLine, windowDiffs,
} from "./format.ts";

/** Escapes text for inline Markdown (table cells included): CommonMark lets any ASCII punctuation be backslash-escaped. */
export function md(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/[\\`*_[\]<>|~#!]/g, "\\$&")
    .replace(/\r\n|\r|\n/g, "<br>");
}

function longestRun(s: string, ch: string): number {
  let best = 0;
  for (const m of s.matchAll(new RegExp(`\\${ch}+`, "g"))) best = Math.max(best, m[0].length);
  return best;
}

/** An inline code span that survives backticks and pipes in its content (GFM reads `\|` as a pipe even in code). */
export function code(s: string): string {
  const flat = s.replace(/\r\n|\r|\n/g, " ").replace(/\|/g, "\\|");
  const fence = "`".repeat(longestRun(flat, "`") + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced block whose fence is longer than any backtick run inside, so the content cannot close it. */
export function codeBlock(s: string, lang = ""): string {
  const fence = "`".repeat(Math.max(3, longestRun(s, "`") + 1));
  return `${fence}${lang}\n${s}\n${fence}`;
}

function table(head: string[], rows: string[][], align?: ("l" | "r")[]): string {
  const sep = head.map((_, i) => (align?.[i] === "r" ? "---:" : "---"));
  return [head, sep, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

const bold = (s: string, on: boolean) => (on ? `**${s}**` : s);

function summary(m: RunModel): string {
  const s = m.summary;
  const rows: [string, string][] = [
    ["Run", `${code(s.runId)} (${md(s.command)})`],
    ["Job", md(s.jobName)],
    ["Job status", md(s.status) + (s.failureReason ? `: ${md(s.failureReason)}` : "")],
    ...seedRows(s).map(([k, v]): [string, string] => [k, code(v)]),
    ["Trace hash", code(s.traceHash)],
    ["Backend / mode / parallelism", `${md(s.backend)} / ${md(s.mode)} / ${s.parallelism}`],
    ["Checkpointing", (s.checkpointInterval === null ? "off" : `every ${fmtDuration(s.checkpointInterval)}`) + (s.checkpointStorage ? `, storage ${md(s.checkpointStorage)}` : "")],
    ["Restart strategy", md(s.restartStrategy)],
    ["Inputs", s.inputs.length ? s.inputs.map(md).join("<br>") : "–"],
    ["Trades", fmtInt(s.trades)],
    ["Virtual time", `${fmtSpan(s.startTime, s.endTime)} (${fmtDuration(s.endTime - s.startTime)})`],
    ["Restarts", fmtInt(s.restarts)],
    ["Throughput", `${fmtInt(Math.round(s.tradesPerSec))} trades/s (wall ${fmtDuration(s.wallMs)})`],
  ];
  return table(["", ""], rows);
}

function violations(m: RunModel): string[] {
  return m.violations.flatMap((v, i) => [
    `### ${i + 1}. ✘ ${md(v.property)}`,
    md(v.message),
    `Seed ${code(v.seed)}` + (v.engineSeed !== undefined && v.engineSeed !== v.seed ? ` (engine seed ${code(v.engineSeed)})` : "") + (v.path !== undefined ? `, path ${code(v.path)}` : "") + ". Replay with:",
    codeBlock(v.replay, "sh"),
    ...(v.faults?.length ? ["Faults of the counterexample:", codeBlock(JSON.stringify(v.faults, null, 2), "json")] : []),
  ]);
}

function windows(m: RunModel): string[] {
  if (m.windows.length === 0) return ["No windows."];
  const sel = selectWindowRows(m.windows);
  const rows = sel.rows.map((w) => {
    const d = windowDiffs(w);
    const bad = w.status !== "ok";
    return [
      bad ? "✘" : "", md(w.symbol), fmtWindow(w),
      md(w.expectedQuantity ?? "–"), w.expectedCount === null ? "–" : fmtInt(w.expectedCount),
      bold(md(w.committedQuantity ?? "–"), bad && d.quantity), bold(w.committedCount === null ? "–" : fmtInt(w.committedCount), bad && d.count),
      bold(String(w.commits), bad && d.commits), bold(md(w.status), bad),
    ];
  });
  const out = [
    `${fmtInt(m.windows.length)} windows, ${fmtInt(sel.differing)} ${sel.differing === 1 ? "differs" : "differ"} from the oracle. ✘ marks a differing row, **bold** the differing cells.`,
    table(["", "Symbol", "Window (UTC)", "Expected qty", "Expected n", "Committed qty", "Committed n", "Commits", "Status"], rows, ["l", "l", "l", "r", "r", "r", "r", "r", "l"]),
  ];
  if (sel.elidedOk > 0) out.push(`… ${fmtInt(sel.elidedOk)} more ok windows not shown (all differing rows and the first 500 ok rows are listed).`);
  return out;
}

function checkpoints(m: RunModel): string[] {
  if (m.checkpoints.length === 0) return [m.summary.restarts > 0 ? "No checkpoint statistics were recorded (see the warnings)." : "No checkpoints were triggered."];
  const sum = checkpointSummary(m.checkpoints);
  const rows = m.checkpoints.map((c) => [
    String(c.id), (c.status === "failed" ? "✘ " : c.status === "completed" ? "✔ " : "… ") + checkpointStatusLabel(c.status),
    checkpointKind(c), fmtTime(c.triggerTime), fmtDuration(c.endToEndMs), fmtDuration(c.syncWallMs), fmtDuration(c.asyncWallMs),
    fmtDuration(c.alignmentMs), `${c.acknowledged}/${c.total}`, fmtStateSize(c.stateBytes), c.failureReason ? md(c.failureReason) : "",
  ]);
  return [
    `${sum.counts}.`,
    table(["", "Min", "Average", "Max"], sum.rows.map((r) => [r.label, r.min, r.avg, r.max]), ["l", "r", "r", "r"]),
    table(
      ["ID", "Status", "Type", "Trigger time", "End to end", "Sync", "Async", "Alignment", "Acked", "State size", "Failure reason"],
      rows, ["r", "l", "l", "l", "r", "r", "r", "r", "r", "r", "l"],
    ),
    "Sync and async durations are wall clock and differ between runs of the same seed; everything else is virtual time.",
  ];
}

function failures(m: RunModel): string[] {
  const evs = m.timeline.filter((e): e is Extract<TimelineEvent, { kind: "crash" | "restart" }> => e.kind === "crash" || e.kind === "restart");
  if (evs.length === 0) return [m.summary.restarts > 0 ? `${m.summary.restarts} restart${m.summary.restarts === 1 ? "" : "s"}; their times were not recorded (see the warnings).` : "No crashes or restarts."];
  return [table(["Time", "Event", "Task / checkpoint", "Detail"], evs.map((e) => e.kind === "crash"
    ? [fmtTime(e.time), "crash", md(e.task), (e.point ? `${code(e.point)}: ` : "") + md(e.error)]
    : [fmtTime(e.time), `restart #${e.attempt}`, e.checkpointId === null ? "from scratch" : `from checkpoint ${e.checkpointId}`, ""]))];
}

function replayLine(m: RunModel): string[] {
  const r = headlineReplay(m);
  if (!r) return [];
  return [`${r.label}:`, codeBlock(r.replay, "sh")];
}

function matrix(m: RunModel): string[] {
  if (!m.matrix?.length) return [];
  const t = matrixTotals(m.matrix);
  // A column of links to each combination's own report, when the rows have one.
  const linked = m.matrix.some((r) => r.reportDir);
  const link = (r: MatrixRow) => {
    const l = matrixLink(m, r, "report.md");
    return !l ? "" : l.self ? "this report" : `[report](${l.href})`;
  };
  return [
    `## Backends and modes (${m.matrix.length})`,
    table(["Scenario", "Backend", "Mode", "Runs", "Passed", "Findings", ...(linked ? ["Report"] : [])], [
      ...m.matrix.map((r) => [md(r.scenario), md(r.backend), md(r.mode), fmtInt(r.runs), fmtInt(r.passed), r.findings ? `**✘ ${fmtInt(r.findings)}**` : "✔ 0", ...(linked ? [link(r)] : [])]),
      ["**total**", "", "", `**${fmtInt(t.runs)}**`, `**${fmtInt(t.passed)}**`, `**${fmtInt(t.findings)}**`, ...(linked ? [""] : [])],
    ], ["l", "l", "l", "r", "r", "r", ...(linked ? ["l" as const] : [])]),
  ];
}

export function renderMarkdown(m: RunModel): string {
  const parts: string[] = [
    `# flinch report: ${md(m.summary.jobName)}`,
    `> **${VERDICT_WORD[verdict(m)]}: ${verdictLine(m)}**`,
    ...replayLine(m),
    summary(m),
    ...matrix(m),
    "## Properties",
    m.properties.length ? m.properties.map((p) => `- ${propertyMark(p.valid)} **${md(p.name)}**: ${md(p.message)}`).join("\n") : "No properties were checked.",
    `## Violations (${m.violations.length})`,
    ...(m.violations.length ? violations(m) : ["None."]),
    "## Windows: expected vs committed",
    ...windows(m),
    "## Late data",
    m.late.length ? table(["Symbol", "Trades", "Quantity"], m.late.map((l) => [md(l.symbol), fmtInt(l.count), md(l.quantity)]), ["l", "r", "r"]) : "No late data.",
    "## Checkpoints",
    ...checkpoints(m),
    "## Crashes and restarts",
    ...failures(m),
  ];
  if (m.runs?.length) {
    parts.push(`## Chaos runs (${m.runs.length})`, table(["#", "Seed", "Path", "Faults", "Result", "Trace hash"], m.runs.map((r, i) => [
      String(i + 1), code(r.seed), r.path !== undefined ? code(r.path) : "–", String(r.faults.length),
      r.valid ? "✔ valid" : `✘ ${r.property ? md(r.property) : "invalid"}`, code(r.traceHash.slice(0, 12)),
    ]), ["r", "l", "l", "r", "l", "l"]));
  }
  parts.push("## Warnings", m.warnings.length ? m.warnings.map((w) => `- ${md(w)}`).join("\n") : "None.");
  const counters = Object.entries(m.counters);
  parts.push("## Counters", counters.length ? table(["Counter", "Value"], counters.map(([k, n]) => [md(k), fmtInt(n)]), ["l", "r"]) : "None.");
  if (m.plan.length) parts.push("## Plan", codeBlock(m.plan.join("\n")));
  return parts.join("\n\n") + "\n";
}
