import { createHash } from "node:crypto";
import fc from "fast-check";
import type { FaultPoint } from "../engine/checkpoint/faults.ts";
import { describeFault, type Fault } from "../sim/faults/fault-plan.ts";
import { faultPlan } from "./arbitraries/fault-plan.ts";
import { feedFaultPlan } from "../sim/binance/toxics-arbitrary.ts";
import { runScenario, type ScenarioRun } from "./run-scenario.ts";
import type { ScenarioSpec } from "./spec.ts";
import type { FeedFaultPlan } from "../sim/binance/toxics.ts";

export interface ChaosOptions {
  /** The spec faults are drawn for (its own fault list is ignored). */
  spec: ScenarioSpec;
  runs: number;
  seed: number;
  /** fast-check replay path of a failure: replays exactly that counterexample. */
  path?: string;
  maxFaults?: number;
  points?: readonly FaultPoint[];
  kinds?: readonly ("crash" | "kill")[];
  /** The flinch command line that selects this spec, without --seed/--path/--runs. */
  command: string;
}

export interface ChaosFailure {
  readonly seed: number;
  readonly path: string;
  readonly property: string;
  readonly message: string;
  readonly faults: Fault[];
  readonly engineSeed: number;
  readonly feedFaults?: FeedFaultPlan;
  readonly replay: string;
  readonly numShrinks: number;
  readonly run: ScenarioRun;
}

export interface ChaosResult {
  readonly runs: number;
  readonly passed: number;
  readonly failures: ChaosFailure[];
  readonly faultsFired: Record<string, number>;
  readonly restarts: number;
  readonly checkpoints: { completed: number; aborted: number };
  /** sha256 over every run's trace hash, in order: same (scenario, seed, runs), same value. */
  readonly traceHash: string;
  readonly sample?: ScenarioRun;
}

/**
 * Runs a scenario under fast-check-generated fault plans: each run draws an engine seed and
 * 1..maxFaults crashes at points the fault-free run passes. A failing plan is shrunk to a
 * minimal one, and the failure carries the exact command that replays it.
 */
export function runChaos(o: ChaosOptions): ChaosResult {
  // Calibration: how often each point is passed without faults bounds the occurrences drawn.
  const calib = runScenario({ ...o.spec, faults: [] });
  const taskSubtasks = Array.from({ length: Math.max(o.spec.job.sourceParallelism, o.spec.job.windowParallelism) }, (_v, i) => `#${i}`);
  const arb = fc.record({
    feedFaults: o.spec.drawFeedFaults ? feedFaultPlan({ maxConnectionProbability: 0.002 }) : fc.constant(o.spec.feedFaults),
    engineSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    faults: faultPlan({
      passages: calib.passages, maxFaults: o.maxFaults ?? 3, points: o.points, tasks: [...taskSubtasks, "Source", "Window", "coordinator"],
      // Process kills only where checkpoints are meant to survive one (file storage); with
      // memory storage a kill loses them by design, which `--process` runs report plainly.
      kinds: o.kinds ?? o.spec.faultKinds ?? (o.spec.job.backend === "memory" ? ["crash"] : ["crash", "kill"]),
    }),
  });
  const hash = createHash("sha256");
  const fired: Record<string, number> = {};
  let restarts = 0, completed = 0, aborted = 0, mainPhase = true, executed = 0;
  let lastFailing: ScenarioRun | undefined;
  const details = fc.check(
    fc.property(arb, ({ engineSeed, faults, feedFaults }) => {
      const run = runScenario({ ...o.spec, seed: String(engineSeed), faults, feedFaults });
      if (mainPhase) {
        executed++;
        hash.update(run.result.traceHash);
        for (const f of run.fired) fired[f.fault.point] = (fired[f.fault.point] ?? 0) + 1;
        restarts += run.result.restarts;
        for (const c of run.result.checkpoints) c.status === "completed" ? completed++ : c.status === "failed" ? aborted++ : 0;
      }
      if (run.valid === false) {
        mainPhase = false;
        lastFailing = run;
        return false;
      }
      return true;
    }),
    { numRuns: o.runs, seed: o.seed, path: o.path, endOnFailure: o.path !== undefined },
  );
  const failures: ChaosFailure[] = [];
  if (details.failed && details.counterexample && details.counterexamplePath !== null) {
    const [{ engineSeed, faults: shrunk, feedFaults }] = details.counterexample;
    const spec = { ...o.spec, feedFaults };
    const faults = minimizeFaults(spec, engineSeed, shrunk);
    // Re-run the minimal counterexample so the failure's history is its own.
    const run = runScenario({ ...spec, seed: String(engineSeed), faults }, { keepTrace: true });
    const bad = run.checks.find((c) => c.valid === false) ?? lastFailing?.checks.find((c) => c.valid === false);
    failures.push({
      seed: o.seed, path: details.counterexamplePath, property: bad?.property ?? "unknown", message: bad?.message ?? String(details.errorInstance ?? ""),
      faults, engineSeed, feedFaults, numShrinks: details.numShrinks, run,
      replay: `${o.command} --seed ${o.seed} --path ${details.counterexamplePath}`,
    });
  }
  return {
    runs: executed, passed: executed - (details.failed ? 1 : 0), failures, faultsFired: fired, restarts,
    checkpoints: { completed, aborted }, traceHash: hash.digest("hex"), sample: calib,
  };
}

/**
 * fast-check shrinks the whole value at once and can stop where no single step keeps the run
 * failing; dropping faults one at a time (delta debugging's 1-minimal pass) often gets further.
 * Deterministic, so the replay line, which reproduces fast-check's counterexample, also
 * reproduces this result.
 */
function minimizeFaults(spec: ScenarioSpec, engineSeed: number, faults: Fault[]): Fault[] {
  let cur = faults;
  for (let changed = true; changed && cur.length > 1; ) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      const candidate = cur.filter((_f, j) => j !== i);
      if (runScenario({ ...spec, seed: String(engineSeed), faults: candidate }).valid === false) {
        cur = candidate;
        changed = true;
        break;
      }
    }
  }
  return cur;
}

export function describePlan(faults: readonly Fault[]): string {
  return faults.length ? faults.map(describeFault).join(", ") : "no faults";
}
