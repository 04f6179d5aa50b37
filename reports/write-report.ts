/**
 * Writes a run's report directory (DESIGN.md §10) and reads its run.json back for
 * `flinch report RUN_DIR`. Each file is written to a temporary name and renamed, so a reader
 * (CI, a browser refresh) never sees half a report.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RunModel } from "./model.ts";
import { RUN_MODEL_VERSION } from "./model.ts";
import { renderHtml } from "./render-html.ts";
import { renderJson } from "./render-json.ts";
import { renderJunit } from "./render-junit.ts";
import { renderMarkdown } from "./render-md.ts";
import { checkAgainstSchema } from "./schema-check.ts";

export type ReportFormat = "json" | "md" | "html" | "junit";

export const REPORT_FORMATS: readonly ReportFormat[] = ["json", "md", "html", "junit"];

const FILES: Record<ReportFormat, { file: string; render: (m: RunModel) => string }> = {
  json: { file: "run.json", render: renderJson },
  md: { file: "report.md", render: renderMarkdown },
  html: { file: "report.html", render: renderHtml },
  junit: { file: "junit.xml", render: renderJunit },
};

/** Writes the asked formats into <outRoot>/<runId>/ and returns that directory. */
export function writeReport(model: RunModel, outRoot = "reports/out", formats: readonly string[] = REPORT_FORMATS): string {
  const runId = model.summary.runId;
  // runId becomes one path segment: no separators, and a leading letter or digit rules out "." and "..".
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) {
    throw new Error(`run id ${JSON.stringify(runId)} cannot name a report directory: use letters, digits, ".", "_" and "-"`);
  }
  for (const f of formats) {
    if (!(REPORT_FORMATS as readonly string[]).includes(f)) {
      throw new Error(`unknown report format "${f}": expected one of ${REPORT_FORMATS.join(", ")}`);
    }
  }
  // Render everything before touching the disk, so a renderer error leaves no partial directory.
  const outputs = [...new Set(formats as ReportFormat[])].map((f) => ({ file: FILES[f].file, text: FILES[f].render(model) }));
  const dir = path.join(outRoot, runId);
  mkdirSync(dir, { recursive: true });
  for (const { file, text } of outputs) {
    const target = path.join(dir, file);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, text, "utf8");
    renameSync(tmp, target);
  }
  return dir;
}

/**
 * Version 1 had one summary.seed, which was the engine seed of the run shown: it becomes
 * engineSeed, and the seed the user gave is unknown (null) rather than guessed.
 */
function upgrade(value: unknown): unknown {
  const v = value as { version?: unknown; summary?: Record<string, unknown> } | null;
  if (v?.version !== 1 || typeof v.summary !== "object" || v.summary === null) return value;
  const { seed, ...summary } = v.summary;
  return { ...v, version: 2, summary: { ...summary, userSeed: null, engineSeed: seed } };
}

/** Reads <dir>/run.json; the error names the file and what is wrong with it. */
export function readRunModel(dir: string): RunModel {
  const file = path.join(dir, "run.json");
  if (!existsSync(file)) throw new Error(`${file}: not found (a run directory holds the run.json that writeReport wrote)`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new Error(`${file}: not valid JSON: ${(cause as Error).message}`, { cause });
  }
  // A newer or older model gets its own message: a list of schema errors would hide the real cause.
  value = upgrade(value);
  const version = (value as { version?: unknown } | null)?.version;
  if (version !== undefined && version !== RUN_MODEL_VERSION) {
    throw new Error(`${file}: run model version ${JSON.stringify(version)}, this flinch reads version ${RUN_MODEL_VERSION}`);
  }
  const errors = checkAgainstSchema(value);
  if (errors.length > 0) {
    throw new Error(`${file}: not a valid run model (reports/run-model.schema.json):\n  ${errors.join("\n  ")}`);
  }
  return value as RunModel;
}
