import * as path from "node:path";
import { readRunModel, writeReport, REPORT_FORMATS } from "../../reports/write-report.ts";
import type { RunModel } from "../../reports/model.ts";
import { parseArgs, str, UsageError } from "../args.ts";
import { HELP } from "../help.ts";
import { InputError, inputDir, outputDir } from "../paths.ts";

export const REPORT_USAGE = HELP.report.usage;

/** Re-renders a run's reports from its run.json. */
export async function reportCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["format"], booleans: [] });
  if (a.positional.length !== 1) throw new UsageError(`report needs exactly one RUN_DIR\nusage: ${REPORT_USAGE}`);
  const formats = (str(a, "format") ?? REPORT_FORMATS.join(",")).split(",");
  for (const f of formats) if (!(REPORT_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format: unknown format ${JSON.stringify(f)}; known: ${REPORT_FORMATS.join(",")}`);
  const dir = path.resolve(inputDir(a.positional[0]));
  outputDir(dir, "RUN_DIR");
  let model: RunModel;
  try {
    model = readRunModel(dir);
  } catch (e) {
    // A missing, unreadable or invalid run.json is bad input: its message names the file and the fault.
    throw new InputError((e as Error).message.split("\n")[0]);
  }
  const out = writeReport(model, path.dirname(dir), formats);
  console.log(out);
  return 0;
}
