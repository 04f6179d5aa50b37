/**
 * Formatting shared by the Markdown and HTML renderers, so both say the same thing in the
 * same words. Nothing here depends on the locale or the wall clock: a report rendered twice
 * from the same model is byte-identical.
 */
import type { CheckpointRow, MatrixRow, PropertyResult, RunModel, WindowResultRow } from "./model.ts";
import { isoSpan, isoTime } from "./messages.ts";

export type Verdict = "pass" | "fail" | "unknown";

/** false beats unknown, which beats true (STYLE.md §12); a recorded violation is a fail even if no property says so. */
export function verdict(model: RunModel): Verdict {
  if (model.violations.length > 0 || model.properties.some((p) => p.valid === false)) return "fail";
  if (model.properties.length === 0 || model.properties.some((p) => p.valid === "unknown")) return "unknown";
  return "pass";
}

export const VERDICT_WORD: Record<Verdict, string> = { pass: "✔ PASS", fail: "✘ FAIL", unknown: "? INCONCLUSIVE" };

/**
 * The verdict's reason in words. It counts one thing, properties: "2 of 5 properties violated".
 * A violation naming a property the list lacks counts as one more property, so the numbers
 * always agree with the Violations section (one entry per violated property).
 */
export function verdictLine(model: RunModel): string {
  const names = new Set(model.properties.map((p) => p.name));
  const violated = new Set(model.properties.filter((p) => p.valid === false).map((p) => p.name));
  for (const v of model.violations) { names.add(v.property); violated.add(v.property); }
  const n = names.size;
  const unknown = model.properties.filter((p) => p.valid === "unknown").length;
  const v = verdict(model);
  if (v === "fail") return `${violated.size} of ${n} ${plural(n, "property", "properties")} violated`;
  if (v === "unknown") return n === 0 ? "no property was checked" : `${unknown} of ${n} ${plural(n, "property", "properties")} could not be decided`;
  return `all ${n} ${plural(n, "property", "properties")} held`;
}

export function matrixTotals(rows: readonly MatrixRow[]): { runs: number; passed: number; findings: number } {
  return rows.reduce((a, r) => ({ runs: a.runs + r.runs, passed: a.passed + r.passed, findings: a.findings + r.findings }), { runs: 0, passed: 0, findings: 0 });
}

/**
 * Where a matrix row's own report is, relative to this one (reports of one campaign are
 * siblings under the same out directory); `self` when the row is the report being read.
 */
export function matrixLink(m: RunModel, r: MatrixRow, file: "report.html" | "report.md"): { href: string; self: boolean } | undefined {
  if (!r.reportDir) return undefined;
  const dir = r.reportDir.replace(/[\\/]+$/, "").split(/[\\/]/).pop() ?? "";
  return { href: `../${encodeURIComponent(dir)}/${file}`, self: dir === m.summary.runId };
}

export function propertyMark(valid: PropertyResult["valid"]): string {
  return valid === true ? "✔" : valid === false ? "✘" : "?";
}

export function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/** Thousands separators without Intl, whose output depends on the host's ICU data. */
export function fmtInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? "-" : "";
  const [int, frac] = Math.abs(n).toString().split(".");
  return sign + int.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (frac ? "." + frac : "");
}

/** A checkpoint's state size: null when JobManager storage kept the state as objects, unserialized. */
export function fmtStateSize(n: number | null): string {
  return n === null ? "in memory" : fmtBytes(n);
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/**
 * A duration rounded once, at the unit shown, and then split: 599,500 ms is "10 min", never
 * "9m 60s"; 59,999 ms is "1 min", not "60.0 s".
 */
export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 0) return `-${fmtDuration(-ms)}`;
  if (ms < 1) return ms === 0 ? "0 ms" : `${ms.toFixed(2)} ms`;
  if (ms < 1000 && (Number.isInteger(ms) || Number(ms.toFixed(1)) < 1000)) return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
  if (ms < 60_000 && ms % 1000 === 0) return `${ms / 1000} s`;
  if (ms < 10_000 && Number((ms / 1000).toFixed(2)) < 10) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000 && Number((ms / 1000).toFixed(1)) < 60) return `${(ms / 1000).toFixed(1)} s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) {
    const min = Math.floor(totalS / 60);
    const s = totalS % 60;
    return s === 0 ? `${min} min` : `${min}m ${String(s).padStart(2, "0")}s`;
  }
  const totalMin = Math.round(ms / 60_000);
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  return m === 0 ? `${h} h` : `${h}h ${String(m).padStart(2, "0")}m`;
}

/** Virtual time in ms. Runs on exchange data use epoch ms; synthetic runs often start at 0. */
export function isEpochLike(t: number): boolean {
  return t > 1e11 && t < 1e14;
}

/** ISO 8601 in UTC, as the windows are written everywhere: "2024-08-09T00:01:00Z", milliseconds only when there are some. */
export function fmtTime(t: number | undefined): string {
  if (t === undefined || !Number.isFinite(t)) return "–";
  if (!isEpochLike(t)) return `${fmtInt(t)} ms`;
  return isoTime(t);
}

/** Time of day only, for tables where the date is given once above. */
export function fmtClock(t: number): string {
  if (!isEpochLike(t)) return `${fmtInt(t)} ms`;
  const iso = new Date(t).toISOString();
  return iso.slice(11, iso.endsWith(".000Z") ? 19 : 23);
}

/** A span whose end repeats only the time of day when it falls on the same date. */
export function fmtSpan(start: number, end: number): string {
  if (isEpochLike(start) && isEpochLike(end)) return isoSpan(start, end);
  return `${fmtTime(start)} – ${fmtTime(end)}`;
}

/** A window in tables: ISO times, the end's date omitted on the same day ("2024-08-09T00:01:00Z–00:02:00Z"). */
export function fmtWindow(w: Pick<WindowResultRow, "start" | "end">): string {
  return fmtSpan(w.start, w.end);
}

/**
 * The one command to run first when a report fails: the first violation's replay line, and
 * whether the other violations replay with the same command.
 */
export function headlineReplay(m: RunModel): { replay: string; label: string } | null {
  const first = m.violations[0];
  if (!first) return null;
  const n = m.violations.length;
  const same = m.violations.every((v) => v.replay === first.replay);
  return { replay: first.replay, label: n === 1 ? "Replay the violation" : !same ? "Replay the first violation" : n === 2 ? "Replay both violations" : `Replay all ${n} violations` };
}

/** The seeds in words: one when the user's seed is the engine's, both labelled otherwise. */
export function seedRows(s: Pick<RunModel["summary"], "userSeed" | "engineSeed">): [label: string, value: string][] {
  if (s.userSeed === null) return [["Engine seed", s.engineSeed]];
  if (s.userSeed === s.engineSeed) return [["Seed", s.userSeed]];
  return [["Seed (--seed)", s.userSeed], ["Engine seed (this run)", s.engineSeed]];
}

/**
 * What the replay line does with the seeds, in words for the seed sentence: it repeats the
 * user's --seed (the campaign's draw), or it names the run's engine seed directly (a shrunk
 * case: `--engine-seed E --faults F`), or neither (no replay line).
 */
export function replaySeedNote(m: RunModel): string {
  const r = headlineReplay(m)?.replay ?? "";
  const s = m.summary;
  const has = (flag: string, v: string | null) => v !== null && new RegExp(`(^| )${flag} '?${v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}'?( |$)`).test(r);
  if (has("--engine-seed", s.engineSeed)) return "the replay line passes it with --engine-seed";
  if (has("--seed", s.userSeed)) return "the replay line repeats it";
  return "";
}

export interface WindowSelection {
  rows: WindowResultRow[];
  differing: number;
  elidedOk: number;
}

/**
 * Keeps every row that differs and the first `okLimit` ok rows, in model order: a 10k-window
 * page stays usable and no difference is ever hidden.
 */
export function selectWindowRows(windows: WindowResultRow[], okLimit = 500): WindowSelection {
  const rows: WindowResultRow[] = [];
  let ok = 0;
  let differing = 0;
  for (const w of windows) {
    if (w.status !== "ok") { differing++; rows.push(w); continue; }
    if (ok++ < okLimit) rows.push(w);
  }
  return { rows, differing, elidedOk: Math.max(0, ok - okLimit) };
}

/** Which cells of a window row differ, so both renderers highlight the same ones. */
export function windowDiffs(w: WindowResultRow): { quantity: boolean; count: boolean; commits: boolean } {
  return {
    quantity: w.expectedQuantity !== w.committedQuantity,
    count: w.expectedCount !== w.committedCount,
    commits: w.commits !== (w.expectedQuantity === null ? 0 : 1),
  };
}

export function checkpointKind(c: CheckpointRow): string {
  return c.savepoint ? "savepoint" : c.final ? "final checkpoint" : "checkpoint";
}

export function checkpointStatusLabel(s: CheckpointRow["status"]): string {
  return s === "in_progress" ? "in progress" : s;
}

export interface CheckpointSummaryRow {
  label: string;
  min: string;
  avg: string;
  max: string;
}

/** Flink UI's "Summary" tab: min/avg/max over completed checkpoints. */
export function checkpointSummary(cps: CheckpointRow[]): { counts: string; rows: CheckpointSummaryRow[] } {
  const done = cps.filter((c) => c.status === "completed");
  const failed = cps.filter((c) => c.status === "failed").length;
  const running = cps.filter((c) => c.status === "in_progress").length;
  const counts = `${cps.length} triggered, ${done.length} completed, ${failed} failed, ${running} in progress`;
  const stat = (label: string, pick: (c: CheckpointRow) => number | undefined, fmt: (n: number) => string): CheckpointSummaryRow => {
    const xs = done.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
    if (xs.length === 0) return { label, min: "–", avg: "–", max: "–" };
    const sum = xs.reduce((a, b) => a + b, 0);
    return { label, min: fmt(Math.min(...xs)), avg: fmt(sum / xs.length), max: fmt(Math.max(...xs)) };
  };
  return {
    counts,
    rows: [
      stat("End-to-end duration", (c) => c.endToEndMs, fmtDuration),
      stat("Sync duration (wall)", (c) => c.syncWallMs, fmtDuration),
      stat("Async duration (wall)", (c) => c.asyncWallMs, fmtDuration),
      stat("Alignment", (c) => c.alignmentMs, fmtDuration),
      stat("State size", (c) => c.stateBytes ?? undefined, (n) => fmtBytes(Math.round(n))),
    ],
  };
}

/** HTML text that is already safe; only html`` and raw() make one, so a plain string is always escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string { return this.value; }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

type HtmlValue = SafeHtml | string | number | boolean | null | undefined | HtmlValue[];

function htmlValue(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(htmlValue).join("");
  if (v === null || v === undefined || v === false) return "";
  return escapeHtml(String(v));
}

/** Tagged template that escapes every interpolation unless it is SafeHtml: escaping is the default, not a habit. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += htmlValue(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** For markup built here from numbers and constants only (SVG path data, CSS). */
export function raw(s: string): SafeHtml {
  return new SafeHtml(s);
}
