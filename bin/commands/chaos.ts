import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import type { ChaosFailure, ChaosOptions, ChaosResult } from "../../scenarios/chaos.ts";
import { claimCount, runChaosPool } from "../../scenarios/chaos-pool.ts";
import { outcomeMessage, outcomeProperty, runCase } from "../../scenarios/outcome.ts";
import { formatReplayLine } from "../../scenarios/replay-line.ts";
import { buildRunModel } from "../../scenarios/run-model.ts";
import { parseScenarioFile } from "../../scenarios/spec-file.ts";
import { SCENARIOS, type Backend, type Mode, type ScenarioSpec } from "../../scenarios/spec.ts";
import { parseConfig, SWARM_DIMENSIONS } from "../../scenarios/swarm.ts";
import { describePlan, FAULT_KINDS, parsePlan, type FaultKind } from "../../sim/faults/fault-plan.ts";
import { ALL_DISK_KINDS, type DiskKind } from "../../scenarios/arbitraries/fault-plan.ts";
import { FAULT_POINTS } from "../../engine/checkpoint/faults.ts";
import { writeReport } from "../../reports/write-report.ts";
import { duration, int, oneOf, parseArgs, runId, seed as seedFlag, str, UsageError } from "../args.ts";
import { HELP } from "../help.ts";
import { outputDir } from "../paths.ts";
import { startProgress } from "../progress.ts";
import { painter } from "../colour.ts";
import { loadJobModule } from "../../scenarios/jobs/job-module.ts";
import { processChaos } from "./chaos-process.ts";
import { attachMatrix, closingSummary, headlineReport, type ComboReport } from "./chaos-matrix.ts";
import type { RunModel } from "../../reports/model.ts";

/** The synopsis lives with the rest of the help text, in bin/help.ts. */
export const CHAOS_USAGE = HELP.chaos.usage;

export interface Combo {
  name: string;
  spec: ScenarioSpec;
  /** Arguments that select this spec again, for replay lines. */
  args: string[];
}

/** A user's typo must be exit 2 with one line, whatever part of the model refused it. */
function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e && typeof e === "object" && (e as { exitCode?: unknown }).exitCode === 2) throw new UsageError((e as Error).message);
    throw e;
  }
}

async function asUsageAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e && typeof e === "object" && (e as { exitCode?: unknown }).exitCode === 2) throw new UsageError((e as Error).message);
    throw e;
  }
}

/**
 * Property-based chaos (swarm): each run draws its configuration and its faults; every run ends
 * passed, violated, liveness or crashed; a finding is shrunk and printed with the commands and
 * the scenario file that replay it. SIGINT, SIGTERM and --time-budget end the campaign with the
 * summary of the runs completed so far.
 */
export async function chaosCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, {
    values: ["scenario", "spec", "job", "workers", "shard", "fixed", "kinds", "backend", "mode", "runs", "seed", "run", "path", "max-faults", "out", "faults", "config", "engine-seed", "time-budget"],
    booleans: ["json", "process"],
  });
  if (a.positional.length) throw new UsageError(`chaos takes no positional arguments (got ${a.positional.join(" ")})\nusage: ${CHAOS_USAGE}`);
  const specFile = str(a, "spec");
  const names = str(a, "scenario") ?? (specFile ? undefined : "swarm");
  if (names !== undefined && specFile !== undefined) throw new UsageError("give --scenario or --spec, not both");
  const scenarioNames = names === undefined ? [] : names === "all" ? Object.keys(SCENARIOS) : names.split(",");
  for (const n of scenarioNames) if (!SCENARIOS[n]) throw new UsageError(`--scenario: unknown scenario ${JSON.stringify(n)}; known: ${Object.keys(SCENARIOS).join(", ")}, all`);
  const backendFlag = str(a, "backend") === undefined ? undefined : oneOf(a, "backend", ["memory", "file", "kv", "all"] as const, "memory");
  const modeFlag = str(a, "mode") as Mode | undefined;
  if (modeFlag !== undefined && modeFlag !== "exactly-once" && modeFlag !== "at-least-once") throw new UsageError(`--mode: expected exactly-once|at-least-once, got ${JSON.stringify(modeFlag)}`);
  const budgetMs = duration(a, "time-budget");
  // A budget of nothing runs nothing, and "0 runs, ok" would read as a pass.
  if (budgetMs === 0) throw new UsageError(`--time-budget: expected a duration above 0 (e.g. 60s), got ${JSON.stringify(str(a, "time-budget"))}`);
  const runs = int(a, "runs", budgetMs !== undefined ? Number.MAX_SAFE_INTEGER : 100, 1);
  const seed = seedFlag(a, 42);
  const path_ = str(a, "path");
  if (path_ !== undefined && !/^\d+(:\d+)*$/.test(path_)) throw new UsageError(`--path: expected a fast-check replay path like 0:1:3 (printed with a finding), got ${JSON.stringify(path_)}`);
  const runFlag = str(a, "run") === undefined ? undefined : int(a, "run", 0, 0);
  if (path_ !== undefined && runFlag === undefined) throw new UsageError("--path replays a run: give --run I with it (both are printed with a finding)");
  const maxFaults = int(a, "max-faults", 3, 1);
  // Each worker thread holds its own heap (about 65 MB running the swarm): 99,999 of them ran the
  // process out of memory. 256 is more than any machine here gains from.
  const workers = int(a, "workers", typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length, 1, 256);
  const shardFlag = str(a, "shard");
  const sm = shardFlag === undefined ? undefined : /^(\d+)\/(\d+)$/.exec(shardFlag);
  if (shardFlag !== undefined && (!sm || Number(sm[1]) < 1 || Number(sm[1]) > Number(sm[2]))) throw new UsageError(`--shard: expected i/n with 1 <= i <= n (e.g. 1/2), got ${JSON.stringify(shardFlag)}`);
  const shard = sm ? { i: Number(sm[1]), n: Number(sm[2]) } : undefined;
  const json = a.flags.has("json");
  const outRoot = outputDir(str(a, "out") ?? "reports/out", "--out");
  if (a.flags.has("process")) return processChaos(a, scenarioNames.length ? scenarioNames : ["exactly-once"], backendFlag ?? "file", modeFlag, seed, path_, json, outRoot);

  const bases: { name: string; spec: ScenarioSpec; args: string[] }[] = specFile !== undefined
    ? [{ name: specFile, spec: asUsage(() => parseScenarioFile(readSpec(specFile), specFile)), args: ["--spec", specFile] }]
    : scenarioNames.map((n) => ({ name: n, spec: SCENARIOS[n].spec, args: ["--scenario", n] }));
  const fixed = str(a, "fixed")?.split(",").filter(Boolean) ?? [];
  for (const d of fixed) if (!(SWARM_DIMENSIONS as readonly string[]).includes(d)) throw new UsageError(`--fixed: unknown dimension ${JSON.stringify(d)}; known: ${SWARM_DIMENSIONS.join(", ")}`);
  const kindsFlag = str(a, "kinds")?.split(",").filter(Boolean);
  const kinds = kindsFlag?.map((k) => k.split(":")[0]) as FaultKind[] | undefined;
  const diskKinds = kindsFlag?.filter((k) => k.startsWith("disk:")).map((k) => k.slice(5)) as DiskKind[] | undefined;
  for (const k of kinds ?? []) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kinds: unknown fault kind ${JSON.stringify(k)}; known: ${FAULT_KINDS.join(", ")} (disk:<kind> for one disk fault kind)`);
  for (const k of diskKinds ?? []) if (!(ALL_DISK_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kinds: unknown disk fault kind ${JSON.stringify(k)}; known: ${ALL_DISK_KINDS.join(", ")}`);
  const jobFile = str(a, "job");
  if (jobFile !== undefined) {
    const abs = await asUsageAsync(() => loadJobModule(jobFile));
    for (const b of bases) {
      b.spec = { ...b.spec, job: { ...b.spec.job, module: abs } };
      b.args = [...b.args, "--job", jobFile];
    }
  }
  const combos: Combo[] = [];
  for (const b of bases) {
    for (const backend of backendFlag === "all" ? (["memory", "file", "kv"] as Backend[]) : [backendFlag as Backend | undefined]) {
      const mode = modeFlag ?? b.spec.job.mode;
      // A backend given on the command line is pinned, and --fixed pins more: the swarm stops drawing them.
      const pinned = new Set<string>([...fixed, ...(backend ? ["backend"] : [])]);
      const spec: ScenarioSpec = { ...b.spec, job: { ...b.spec.job, backend: backend ?? b.spec.job.backend, mode }, swarm: b.spec.swarm?.filter((d) => !pinned.has(d)) };
      const args = [...b.args, ...(backend ? ["--backend", backend] : []), ...(modeFlag ? ["--mode", modeFlag] : []), ...(fixed.length ? ["--fixed", fixed.join(",")] : []), ...(kindsFlag ? ["--kinds", kindsFlag.join(",")] : []), ...(maxFaults !== 3 ? ["--max-faults", String(maxFaults)] : [])];
      combos.push({ name: b.name, spec, args });
    }
  }
  if ((path_ !== undefined || runFlag !== undefined) && combos.length > 1) throw new UsageError("--run/--path replay one run: give one --scenario and one --backend");

  const faultsFlag = str(a, "faults");
  if (faultsFlag !== undefined || str(a, "config") !== undefined || str(a, "engine-seed") !== undefined) {
    if (combos.length > 1) throw new UsageError("--faults/--config/--engine-seed run one case: give one --scenario and one --backend");
    return exactRun(a, combos[0], json);
  }

  // Partial results survive: a signal or the budget ends the loop between runs, and the summary follows.
  const stop: { reason?: string } = {};
  const onSignal = (s: "SIGINT" | "SIGTERM") => () => void (stop.reason ??= s);
  const sigint = onSignal("SIGINT"), sigterm = onSignal("SIGTERM");
  process.on("SIGINT", sigint);
  process.on("SIGTERM", sigterm);
  const deadline = budgetMs !== undefined ? Date.now() + budgetMs : undefined; // real-time: the budget is wall time
  let failures = 0;
  try {
    const results: { c: Combo; r: ChaosResult; wallMs: number; dir: string }[] = [];
    const reports: ComboReport[] = [];
    for (const c of combos) {
      if (stop.reason) break;
      const t0 = performance.now();
      const total = runFlag !== undefined || budgetMs === undefined ? claimCount({ runs, run: runFlag }, shard) : undefined;
      const progress = startProgress({ label: `chaos ${c.name}`, total });
      const opts: ChaosOptions = { spec: c.spec, runs, seed, run: runFlag, path: path_, maxFaults, args: c.args, kinds: kinds ? [...new Set(kinds)] : undefined, diskKinds: diskKinds?.length ? diskKinds : undefined };
      const r = await asUsageAsync(() => runChaosPool(opts, { workers: runFlag !== undefined ? 1 : workers, shard, deadline, stop, onProgress: (d, f) => progress.update(d, f) }));
      if (deadline !== undefined && Date.now() >= deadline && !stop.reason && r.runs < (total ?? Infinity)) stop.reason = "time budget"; // real-time: see above
      progress.finish("");
      const wallMs = performance.now() - t0;
      const rep = report(c, r, wallMs, seed, outRoot);
      const dir = rep?.dir ?? "(no report: no run of this scenario completed)";
      reports.push({ row: { scenario: c.name, backend: c.spec.job.backend, mode: c.spec.job.mode, runs: r.runs, passed: r.passed, findings: r.failures.length }, ...rep });
      results.push({ c, r, wallMs, dir });
      failures += r.failures.length;
      if (!json) printCombo(c, r, wallMs, dir);
    }
    attachMatrix(reports, outRoot);
    if (stop.reason && !json) console.log(`stopped by ${stop.reason}: the summary covers the runs completed so far`);
    if (!json) for (const l of closingSummary(reports)) console.log(l);
    if (json) console.log(JSON.stringify({ ...summaryJson(results, stop.reason), reportHtml: headlineReport(reports) ?? null }));
  } finally {
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigterm);
  }
  return failures ? 1 : 0;
}

function readSpec(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`--spec ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** `--engine-seed E --faults PLAN [--config CFG]`: exactly one case, no draws, no shrinking. */
function exactRun(a: ReturnType<typeof parseArgs>, c: Combo, json: boolean): number {
  const faults = asUsage(() => parsePlan(str(a, "faults") ?? ""));
  const config = asUsage(() => parseConfig(str(a, "config") ?? ""));
  const engineSeed = int(a, "engine-seed", Number(c.spec.seed) || 0, 0);
  const { outcome, run } = runCase(c.spec, { engineSeed, config, faults });
  const cfg = Object.keys(config).length ? ["--config", str(a, "config")!] : [];
  const replay = formatReplayLine("chaos", [...c.args, "--engine-seed", String(engineSeed), ...cfg, "--faults", faults.length ? describePlan(faults) : ""]);
  if (json) {
    console.log(JSON.stringify({ command: "chaos", runs: 1, outcome: outcome.kind, property: outcomeProperty(outcome), message: outcomeMessage(outcome), traceHash: run?.result.traceHash ?? null, fired: run?.fired.length ?? 0, replay }));
  } else {
    console.log(`${c.name}: 1 run (${describePlan(faults)}) — ${outcome.kind}${outcome.kind === "passed" ? "" : `: ${outcomeProperty(outcome)}: ${outcomeMessage(outcome)}`}`);
    if (outcome.kind === "crashed" && process.argv.includes("--debug")) console.log(outcome.stack);
    if (run) console.log(`  trace ${run.result.traceHash}, ${run.fired.length} fault${run.fired.length === 1 ? "" : "s"} fired, ${run.result.restarts} restart${run.result.restarts === 1 ? "" : "s"}`);
    console.log(`  replay: ${replay}`);
  }
  return outcome.kind === "passed" ? 0 : 1;
}

function report(c: Combo, r: ChaosResult, wallMs: number, seed: number, out: string): { dir: string; model: RunModel } | undefined {
  const f0 = r.failures[0];
  const shown = f0?.run ?? r.sample;
  if (!shown) return undefined;
  const model = buildRunModel(shown, {
    runId: runId("chaos", `${path.basename(c.name)}-${c.spec.job.backend}`, String(seed)), command: "chaos", inputs: [formatReplayLine("chaos", c.args)], wallMs,
    replay: f0?.replay ?? formatReplayLine("chaos", [...c.args, "--seed", String(seed)]),
    violations: r.failures.map((f) => ({ property: f.property, message: f.message, seed: String(f.seed), path: f.path, replay: f.replay, faults: f.faults as unknown[] })),
    chaos: r,
  });
  model.summary.trades = shown.tape.stats.trades;
  model.summary.tradesPerSec = wallMs > 0 ? Math.round((shown.tape.stats.trades * (r.runs + 1) * 1000) / wallMs) : 0;
  const dir = writeReport(model, out);
  if (f0) fs.writeFileSync(path.join(dir, "counterexample.json"), f0.scenarioFile + "\n");
  return { dir, model };
}

function printCombo(c: Combo, r: ChaosResult, wallMs: number, dir: string): void {
  const o = r.outcomes;
  const paint = painter();
  const verdict = r.failures.length ? r.failures.map((f) => paint.verdict(f.outcome.kind.toUpperCase())).join(", ") : paint.verdict("ok");
  console.log(`${c.name} [${c.spec.job.backend}, ${c.spec.job.mode}${c.spec.swarm?.length ? ", swarm" : ""}]: ${r.runs} runs (${o.passed} passed, ${o.violated} violated, ${o.liveness} liveness, ${o.crashed} crashed), ${r.restarts} restarts, checkpoints ${r.checkpoints.completed} completed / ${r.checkpoints.aborted} aborted — ${verdict} (${Math.round(wallMs)} ms, ${wallMs > 0 ? ((r.runs * 1000) / wallMs).toFixed(1) : "–"} runs/s)`);
  for (const f of r.failures) printFailure(f);
  console.log(`  report: ${dir}`);
}

function printFailure(f: ChaosFailure): void {
  const what = f.outcome.kind === "crashed" ? `crashed: ${f.message}` : `${f.outcome.kind}: ${f.property}: ${f.message}`;
  console.log(`  ${painter().mark(false)} run ${f.index} ${what}`);
  if (f.outcome.kind === "crashed" && process.argv.includes("--debug")) console.log(f.outcome.stack.split("\n").map((l) => `      ${l}`).join("\n"));
  console.log(`    shrunk counterexample (${f.numShrinks} shrinks): ${describePlan(f.faults)}; config: ${Object.keys(f.config).length ? JSON.stringify(f.config) : "the scenario's"}; engine seed ${f.engineSeed}`);
  console.log(`    replay: ${f.replay}`);
  console.log(`    replay (this campaign's draw): ${f.replayPath}`);
  console.log(`    as a scenario file (npx flinch chaos --spec FILE --runs 1 replays its draw; counterexample.json in the report):`);
  console.log(f.scenarioFile.split("\n").map((l) => `      ${l}`).join("\n"));
}

function summaryJson(results: { c: Combo; r: ChaosResult; dir: string }[], stopped: string | undefined) {
  const sum = (f: (r: ChaosResult) => number) => results.reduce((s, x) => s + f(x.r), 0);
  const add = (into: Record<string, number>, from: Record<string, number>) => { for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v; return into; };
  const drawn = { faults: {} as Record<string, number>, config: {} as Record<string, number> };
  const fired: Record<string, number> = Object.fromEntries(FAULT_POINTS.map((p) => [p, 0]));
  const outcomes: Record<string, number> = { passed: 0, violated: 0, liveness: 0, crashed: 0 };
  for (const { r } of results) {
    add(drawn.faults, r.drawn.faults);
    add(drawn.config, r.drawn.config);
    add(fired, r.faultsFired);
    add(outcomes, r.outcomes);
  }
  const failures = results.flatMap(({ c, r }) => r.failures.map((f) => ({
    scenario: c.name, seed: f.seed, run: f.index, path: f.path, outcome: f.outcome.kind, property: f.property, message: f.message,
    faults: describePlan(f.faults), config: f.config, engineSeed: f.engineSeed, replay: f.replay, replayPath: f.replayPath, scenarioFile: JSON.parse(f.scenarioFile) as unknown,
  })));
  return {
    command: "chaos", runs: sum((r) => r.runs), passed: sum((r) => r.passed), violations: failures.length, outcomes, failures,
    drawn, dimensions: SWARM_DIMENSIONS, faults: fired, restarts: sum((r) => r.restarts),
    checkpoints: { completed: sum((r) => r.checkpoints.completed), aborted: sum((r) => r.checkpoints.aborted) },
    traceHash: results.length === 1 ? results[0].r.traceHash : hashAll(results.map((x) => x.r.traceHash)),
    ...(stopped ? { stopped } : {}),
    reportDir: results.length === 1 ? results[0].dir : results.map((x) => x.dir),
  };
}

function hashAll(hashes: string[]): string {
  return createHash("sha256").update(hashes.join("\n")).digest("hex");
}
