import { runScenario } from "../../scenarios/run-scenario.ts";
import { buildRunModel } from "../../scenarios/run-model.ts";
import { SCENARIOS } from "../../scenarios/spec.ts";
import { writeReport } from "../../reports/write-report.ts";
import { int, parseArgs, runId, seed as seedFlag, str, UsageError } from "../args.ts";
import { HELP } from "../help.ts";
import { outputDir } from "../paths.ts";
import { sortRows, windowTable } from "../output.ts";
import { durableSpec, startingFrom, RESUME_BOOLEANS, RESUME_VALUES, resumeFlags, resumeOptions, startLines } from "./resume-flags.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const RUN_USAGE = HELP.run.usage;

/**
 * `npm start`: the seed job (DESIGN.md §1, line for line) over a generated tape in
 * simulation, no faults. Prints the 1-minute window sums and the properties, writes a report.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: ["scenario", "seed", "out", "parallelism", ...RESUME_VALUES], booleans: ["json", ...RESUME_BOOLEANS] });
  const name = str(a, "scenario") ?? "seed-config";
  const named = SCENARIOS[name];
  if (!named) throw new UsageError(`--scenario: unknown scenario ${JSON.stringify(name)}; known: ${Object.keys(SCENARIOS).join(", ")}`);
  const seed = String(seedFlag(a, 42));
  const outRoot = outputDir(str(a, "out") ?? "reports/out", "--out");
  let spec = { ...named.spec, seed };
  if (a.flags.has("parallelism")) {
    const p = int(a, "parallelism", 1, 1);
    spec = { ...spec, job: { ...spec.job, sourceParallelism: p, windowParallelism: p } };
  }
  const plan = resumeFlags(a);
  if (plan) spec = durableSpec(spec, a);
  const t0 = performance.now();
  const run = startingFrom(plan, () => runScenario(spec, plan ? resumeOptions(plan) : {}));
  if (plan) for (const l of startLines(run.result, plan)) console.error(`flinch run: ${l}`);
  const wallMs = performance.now() - t0;
  const replay = `flinch run --scenario ${name} --seed ${seed}`;
  const model = buildRunModel(run, { runId: runId("run", name, seed), command: "run", inputs: [`generated: ${JSON.stringify(spec.feed)}`], wallMs, replay });
  const dir = writeReport(model, outRoot);
  const ok = run.valid === true;
  if (a.flags.has("json")) {
    console.log(JSON.stringify({ command: "run", scenario: name, seed, status: run.result.status, windows: run.committed.length, valid: run.valid, traceHash: run.result.traceHash, reportDir: dir }));
  } else {
    console.log(`${spec.description}\n`);
    for (const l of run.result.plan) console.log(`  ${l}`);
    console.log();
    console.log(windowTable(sortRows(run.committed)));
    console.log(`\n${run.tape.stats.trades} trades in ${Math.round(wallMs)} ms (${Math.round((run.tape.stats.trades / wallMs) * 1000).toLocaleString("en-US")} trades/s); ${run.result.checkpoints.filter((c) => c.status === "completed").length} checkpoints; job ${run.result.status}; trace ${run.result.traceHash}`);
    for (const c of run.checks) console.log(`${c.valid === true ? "✔" : c.valid === false ? "✘" : "?"} ${c.property}: ${c.message}`);
    for (const w of run.warnings) console.log(`warning: ${w}`);
    console.log(`report: ${dir}/report.html`);
    if (!ok) console.log(`replay: ${replay}`);
  }
  return ok ? 0 : 1;
}
