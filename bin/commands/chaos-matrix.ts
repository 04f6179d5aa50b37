import * as path from "node:path";
import type { MatrixRow, RunModel } from "../../reports/model.ts";
import { writeReport } from "../../reports/write-report.ts";
import { painter } from "../colour.ts";

/**
 * A campaign over several scenarios, backends or modes (`--backend all`, `--scenario a,b`):
 * every combination keeps its own report, and each of them carries the whole matrix, so
 * whichever report.html a user opens shows backend × mode side by side, with links to the
 * others. The closing summary names the report.html to open first.
 */
export interface ComboReport {
  row: MatrixRow;
  /** The combination's model and directory, when a run of it completed. */
  model?: RunModel;
  dir?: string;
}

/** Rewrites each combination's report with the matrix of all of them (nothing to do for one). */
export function attachMatrix(combos: readonly ComboReport[], outRoot: string): MatrixRow[] {
  const rows = combos.map((c) => ({ ...c.row, ...(c.dir ? { reportDir: c.dir } : {}) }));
  if (combos.length < 2) return rows;
  for (const c of combos) {
    if (!c.model) continue;
    c.model.matrix = rows;
    writeReport(c.model, outRoot);
  }
  return rows;
}

/** The report to open first: the first combination with a finding, else the first with a report. */
export function headlineReport(combos: readonly ComboReport[]): string | undefined {
  const withDir = combos.filter((c) => c.dir);
  const dir = (withDir.find((c) => c.row.findings > 0) ?? withDir[0])?.dir;
  return dir === undefined ? undefined : path.join(dir, "report.html");
}

/** The closing lines: the matrix (when several), then the report.html to open. */
export function closingSummary(combos: readonly ComboReport[]): string[] {
  const paint = painter();
  const lines: string[] = [];
  if (combos.length > 1) {
    const w = (k: "scenario" | "backend" | "mode") => Math.max(k.length, ...combos.map((c) => c.row[k].length));
    const [ws, wb, wm] = [w("scenario"), w("backend"), w("mode")];
    lines.push("", `${"scenario".padEnd(ws)}  ${"backend".padEnd(wb)}  ${"mode".padEnd(wm)}  ${"runs".padStart(6)}  ${"passed".padStart(6)}  findings`);
    for (const { row: r } of combos) {
      const verdict = r.findings ? paint("red", `✘ ${r.findings}`) : paint("green", "✔ 0");
      lines.push(`${r.scenario.padEnd(ws)}  ${r.backend.padEnd(wb)}  ${r.mode.padEnd(wm)}  ${String(r.runs).padStart(6)}  ${String(r.passed).padStart(6)}  ${verdict}`);
    }
    const runs = combos.reduce((s, c) => s + c.row.runs, 0);
    const findings = combos.reduce((s, c) => s + c.row.findings, 0);
    lines.push(`${combos.length} combinations, ${runs} runs, ${findings} finding${findings === 1 ? "" : "s"}; each report shows all ${combos.length} side by side`);
  }
  const html = headlineReport(combos);
  lines.push(html ? `report: ${html}` : "report: none (no run completed)");
  return lines;
}
