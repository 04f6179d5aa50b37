/**
 * The report's inline SVG timeline across virtual time: checkpoints as bars from trigger to
 * end, crashes and restarts as markers with a guide line through every lane (so one can see
 * which checkpoint a crash hit), and one watermark step line per task. Details live in
 * <title> tooltips, not labels, so a dense run never turns into overlapping text. Windows that
 * differ from the oracle get their own lane, so the crash that caused a finding sits next to it.
 */
import type { CheckpointRow, RunModel, TimelineEvent } from "./model.ts";
import { fmtClock, fmtDuration, fmtTime, fmtWindow, html, isEpochLike, raw, SafeHtml } from "./format.ts";

const W = 1200;
const LEFT = 120;
const RIGHT = 24;
const ROW = 18;
const WM_H = 120;
const COLORS: Record<CheckpointRow["status"], string> = { completed: "#2e9d57", failed: "#d64545", in_progress: "#e0a526" };
const TASK_COLORS = ["#3b6fd8", "#9a4fd1", "#d9822b", "#1f9e9e", "#c2417a", "#6b8e23", "#8c6d3f", "#4d4d4d"];
const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];

type Ev<K extends TimelineEvent["kind"]> = Extract<TimelineEvent, { kind: K }>;

// Loops, not Math.min(...xs): a long run's timeline has more events than a call can take arguments.
const min = (xs: number[]) => xs.reduce((a, b) => (b < a ? b : a), Infinity);
const max = (xs: number[]) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const n = (x: number) => (Math.round(x * 10) / 10).toString();

/** Packs overlapping checkpoint bars into rows (greedy, first row that is free). */
function pack(bars: { x0: number; x1: number }[]): number[] {
  const rowEnds: number[] = [];
  return bars.map((b) => {
    let r = rowEnds.findIndex((end) => end + 2 <= b.x0);
    if (r < 0) { r = rowEnds.length; rowEnds.push(0); }
    rowEnds[r] = b.x1;
    return r;
  });
}

/** Labels as precise as the span needs: a multi-day run shows dates, a short one seconds. */
function tickLabel(t: number, t0: number, span: number): string {
  if (!isEpochLike(t)) return `+${fmtDuration(t - t0)}`;
  const iso = fmtTime(t);
  if (span >= 2 * 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return span >= 4 * 3_600_000 ? iso.slice(11, 16) : fmtClock(t);
}

export interface TimelineSvg {
  svg: SafeHtml;
  tasks: { task: string; color: string }[];
}

export function renderTimeline(m: RunModel): TimelineSvg | null {
  const evs = m.timeline.filter((e) => Number.isFinite(e.time));
  const cps = evs.filter((e): e is Ev<"checkpoint"> => e.kind === "checkpoint");
  const crashes = evs.filter((e): e is Ev<"crash"> => e.kind === "crash");
  const restarts = evs.filter((e): e is Ev<"restart"> => e.kind === "restart");
  // Flink's MIN/MAX watermark sentinels would flatten every real line into the axis.
  const wms = evs.filter((e): e is Ev<"watermark"> => e.kind === "watermark" && Math.abs(e.watermark) < Number.MAX_SAFE_INTEGER);
  if (evs.length === 0) return null;
  const badWindows = m.windows.filter((w) => w.status !== "ok" && Number.isFinite(w.start) && Number.isFinite(w.end));

  const times = evs.flatMap((e) => (e.kind === "checkpoint" && e.endTime !== undefined ? [e.time, e.endTime] : [e.time]));
  for (const w of badWindows) times.push(w.start, w.end);
  const t0 = Math.min(m.summary.startTime, min(times));
  let t1 = Math.max(m.summary.endTime, max(times));
  if (t1 <= t0) t1 = t0 + 1000;
  const plotW = W - LEFT - RIGHT;
  const x = (t: number) => LEFT + ((t - t0) / (t1 - t0)) * plotW;

  const bars = cps.map((c) => {
    const end = c.endTime ?? (c.status === "in_progress" ? t1 : c.time);
    const x0 = x(c.time);
    return { c, x0, x1: Math.max(x(end), x0 + 4) };
  });
  const rows = pack(bars);
  const cpRows = Math.max(1, max(rows) + 1);
  const cpTop = 26;
  const failTop = cpTop + cpRows * ROW + 14;
  const winTop = failTop + 32;
  const wmTop = (badWindows.length ? winTop + 26 : failTop) + 40;
  const axisY = wms.length ? wmTop + WM_H + 10 : (badWindows.length ? winTop + 26 : failTop + 34);
  const H = axisY + 28;
  const parts: SafeHtml[] = [];

  const step = STEPS.find((s) => (t1 - t0) / s <= 8) ?? (t1 - t0) / 8;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    parts.push(html`<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${cpTop - 6}" y2="${axisY}" class="grid"/><text x="${n(x(t))}" y="${axisY + 16}" class="tick">${tickLabel(t, t0, t1 - t0)}</text>`);
  }
  parts.push(html`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${axisY}" y2="${axisY}" class="axis"/>`);
  const lane = (y: number, label: string) => html`<text x="${LEFT - 10}" y="${y}" class="lane">${label}</text>`;
  parts.push(lane(cpTop + (ROW - 6) / 2, "Checkpoints"), lane(failTop + 11, "Crashes / restarts"));
  if (badWindows.length) {
    parts.push(lane(winTop + 7, "Wrong windows"));
    for (const w of badWindows) {
      const x0 = x(w.start);
      parts.push(html`<rect x="${n(x0)}" y="${winTop}" width="${n(Math.max(x(w.end) - x0, 3))}" height="14" class="badwin"><title>${`${w.symbol} ${fmtWindow(w)}: ${w.status}`}</title></rect>`);
    }
  }

  let lastLabel = -Infinity;
  bars.forEach(({ c, x0, x1 }, i) => {
    const y = cpTop + rows[i] * ROW;
    const tip = `checkpoint ${c.id}: ${c.status.replace("_", " ")}\ntriggered ${fmtTime(c.time)}` +
      (c.endTime !== undefined ? `\nended ${fmtTime(c.endTime)} (${fmtDuration(c.endTime - c.time)})` : "");
    parts.push(html`<rect x="${n(x0)}" y="${y}" width="${n(x1 - x0)}" height="${ROW - 6}" rx="2" fill="${COLORS[c.status] ?? "#888"}"><title>${tip}</title></rect>`);
    // Ids only where they fit; every bar keeps its tooltip.
    if (rows[i] === 0 && x0 - lastLabel >= 40) {
      parts.push(html`<text x="${n(x0 + 4)}" y="${y - 3}" class="cpid">${"#" + c.id}</text>`);
      lastLabel = x0;
    }
  });

  for (const r of restarts) {
    const rx = x(r.time);
    const from = r.checkpointId === null ? "from scratch (no checkpoint)" : `from checkpoint ${r.checkpointId}`;
    parts.push(html`<g class="restart"><title>${`restart #${r.attempt} at ${fmtTime(r.time)}, ${from}`}</title><line x1="${n(rx)}" x2="${n(rx)}" y1="${cpTop - 6}" y2="${axisY}"/><path d="${raw(`M${n(rx)} ${failTop + 4}l7 7-7 7-7-7z`)}"/></g>`);
  }
  for (const c of crashes) {
    const cx = x(c.time);
    const tip = `crash at ${fmtTime(c.time)} in ${c.task}${c.point ? ` at ${c.point}` : ""}\n${c.error}`;
    parts.push(html`<g class="crash"><title>${tip}</title><line x1="${n(cx)}" x2="${n(cx)}" y1="${cpTop - 6}" y2="${axisY}"/><path d="${raw(`M${n(cx - 6)} ${failTop + 5}l12 12m0-12l-12 12`)}"/></g>`);
  }

  const tasks: { task: string; color: string }[] = [];
  if (wms.length) {
    const byTask = new Map<string, Ev<"watermark">[]>();
    for (const w of wms) {
      const list = byTask.get(w.task);
      if (list) list.push(w); else byTask.set(w.task, [w]);
    }
    const v0 = min(wms.map((w) => w.watermark));
    const v1 = Math.max(v0 + 1, max(wms.map((w) => w.watermark)));
    const y = (v: number) => wmTop + WM_H - ((v - v0) / (v1 - v0)) * WM_H;
    parts.push(lane(wmTop + WM_H / 2, "Watermarks"));
    parts.push(html`<rect x="${LEFT}" y="${wmTop}" width="${plotW}" height="${WM_H}" class="wmbox"/>`);
    parts.push(html`<text x="${LEFT - 10}" y="${wmTop + 8}" class="wmscale">${tickLabel(v1, v0, v1 - v0)}</text><text x="${LEFT - 10}" y="${wmTop + WM_H}" class="wmscale">${tickLabel(v0, v0, v1 - v0)}</text>`);
    const count = byTask.size;
    [...byTask].forEach(([task, ws], i) => {
      const color = TASK_COLORS[i % TASK_COLORS.length];
      tasks.push({ task, color });
      // A watermark holds until the next one arrives: draw steps, not slopes.
      let d = `M${n(x(ws[0].time))} ${n(y(ws[0].watermark))}`;
      for (let k = 1; k < ws.length; k++) d += `H${n(x(ws[k].time))}V${n(y(ws[k].watermark))}`;
      d += `H${n(x(t1))}`;
      const last = ws[ws.length - 1];
      // Tasks' watermarks often run within a few ms of each other: earlier lines are drawn wider so later ones do not hide them.
      const width = 2 + (4 * (count - 1 - i)) / Math.max(1, count - 1);
      parts.push(html`<path d="${raw(d)}" stroke="${color}" stroke-width="${n(width)}" stroke-opacity="${i < count - 1 ? 0.55 : 1}" class="wm"><title>${`${task}: watermark ${fmtTime(last.watermark)} at ${fmtTime(last.time)} (${ws.length} updates)`}</title></path>`);
    });
  }

  const svg = html`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Timeline of checkpoints, crashes, restarts and watermarks">${parts}</svg>`;
  return { svg, tasks };
}
