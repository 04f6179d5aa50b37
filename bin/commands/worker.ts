import * as fs from "node:fs";
import * as path from "node:path";
import { NodeFs } from "../../engine/state/fs.ts";
import { runScenario } from "../../scenarios/run-scenario.ts";
import type { ScenarioSpec } from "../../scenarios/spec.ts";
import { parseScenarioFile, ScenarioFileError } from "../../scenarios/spec-file.ts";
import { parseArgs, str, UsageError } from "../args.ts";
import { inputFile, outputDir } from "../paths.ts";

/**
 * `flinch _worker --spec F --root DIR [--resume]` (internal, used by `chaos --process`): runs one
 * scenario process on the real disk. A kill fault SIGKILLs this very process at its fault point,
 * after noting what it knew in DIR/killed.json; a run that ends writes DIR/result.json.
 */
export async function workerCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["spec", "root"], booleans: ["resume"] });
  const specFile = str(a, "spec");
  const root = str(a, "root");
  if (!specFile || !root) throw new UsageError("_worker needs --spec and --root");
  inputFile(specFile, "--spec");
  outputDir(root, "--root");
  const spec = readWorkerSpec(specFile);
  const run = runScenario(spec, {
    fs: new NodeFs(),
    root,
    kvLocalDir: ensureDir(path.join(root, "kv-local")),
    resume: a.flags.has("resume"),
    onKill(site, latestCompleted, startedFrom, faultIndex) {
      // The nemesis names the fault that fired: with two kills at one point, the point alone would not.
      const fired = faultIndex;
      writeDurably(path.join(root, "killed.json"), JSON.stringify({ site, latestCompleted: latestCompleted ?? null, startedFrom: startedFrom ?? null, fired }));
      process.kill(process.pid, "SIGKILL");
      for (;;); // SIGKILL arrives asynchronously: make no progress until it does
    },
  });
  writeDurably(path.join(root, "result.json"), JSON.stringify({
    status: run.result.status, failureReason: run.result.failureReason, restarts: run.result.restarts,
    startedFrom: run.result.startedFrom?.checkpointId ?? null, skipped: run.result.startedFrom?.skipped ?? [],
    traceHash: run.result.traceHash,
    late: Object.fromEntries([...run.late].map(([k, v]) => [k, { quantity: v.quantity.toString(), count: v.count }])),
  }));
  return 0;
}

/** The spec file, validated like any scenario file: a bad one is exit 2 with one line. */
export function readWorkerSpec(specFile: string): ScenarioSpec {
  let text: string;
  try {
    text = fs.readFileSync(specFile, "utf8");
  } catch (e) {
    throw new UsageError(`--spec ${specFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    return parseScenarioFile(text, specFile);
  } catch (e) {
    if (e instanceof ScenarioFileError) throw new UsageError(e.message);
    throw e;
  }
}

function writeDurably(file: string, text: string): void {
  const fd = fs.openSync(file, "w");
  fs.writeSync(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function ensureDir(d: string): string {
  fs.mkdirSync(d, { recursive: true });
  return d;
}
