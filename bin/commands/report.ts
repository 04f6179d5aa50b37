import { readRunModel, writeReport, REPORT_FORMATS } from "../../reports/write-report.ts";
import * as path from "node:path";
import { parseArgs, str, UsageError } from "../args.ts";

export const REPORT_USAGE = "flinch report RUN_DIR [--format html,md,json,junit]";

/** Re-renders a run's reports from its run.json. */
export async function reportCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["format"], booleans: [] });
  if (a.positional.length !== 1) throw new UsageError(`report needs exactly one RUN_DIR\nusage: ${REPORT_USAGE}`);
  const formats = (str(a, "format") ?? REPORT_FORMATS.join(",")).split(",");
  for (const f of formats) if (!(REPORT_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format: unknown format ${JSON.stringify(f)}; known: ${REPORT_FORMATS.join(",")}`);
  const dir = path.resolve(a.positional[0]);
  const model = readRunModel(dir);
  const out = writeReport(model, path.dirname(dir), formats);
  console.log(out);
  return 0;
}
