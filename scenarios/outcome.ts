import type { Fault } from "../sim/faults/fault-plan.ts";
import { PROPERTIES } from "./checkers.ts";
import { runScenario, type RunOptions, type ScenarioRun } from "./run-scenario.ts";
import type { ScenarioSpec } from "./spec.ts";
import { applyConfig, applyFeed, type SwarmConfig } from "./swarm.ts";

/**
 * Every run ends in exactly one class (VOPR's failure classes): the properties held; a safety
 * property was violated; the job did not finish after the faults were over (liveness); or
 * something threw that no correct engine or harness throws (crashed, with its stack).
 */
export type Outcome =
  | { readonly kind: "passed" }
  | { readonly kind: "violated"; readonly property: string; readonly message: string }
  | { readonly kind: "liveness"; readonly property: string; readonly message: string }
  | { readonly kind: "crashed"; readonly error: string; readonly stack: string };

export type OutcomeKind = Outcome["kind"];

/** What one run is: everything it draws. Plain data: a replay line and a scenario file hold it. */
export interface RunCase {
  readonly engineSeed: number;
  readonly config: SwarmConfig;
  readonly faults: readonly Fault[];
}

/** The property an outcome is about ("crashed" for a throw), for summaries and JSON. */
export function outcomeProperty(o: Outcome): string {
  return o.kind === "passed" ? "" : o.kind === "crashed" ? "crashed" : o.property;
}

export function outcomeMessage(o: Outcome): string {
  return o.kind === "passed" ? "passed" : o.kind === "crashed" ? o.error : o.message;
}

/**
 * What still says something when the job gave up: duplicates, wrong restores, and the checks that
 * judge what happened rather than what is missing (every checkpoint completed, every failover
 * taken, every trigger and expiry, every restart's backoff, every checkpoint retained).
 */
const SAFETY_WHEN_UNFINISHED = new Set<string>([PROPERTIES.once, PROPERTIES.restore, PROPERTIES.kills, PROPERTIES.cuts, PROPERTIES.failurePolicy, PROPERTIES.triggerPolicy, PROPERTIES.restartPolicy, PROPERTIES.retention, PROPERTIES.alignment, PROPERTIES.discard]);

/** Safety first: a violated property outranks a job that did not finish. */
export function classify(run: Pick<ScenarioRun, "checks">): Outcome {
  const bad = run.checks.filter((c) => c.valid === false);
  const unfinished = bad.find((c) => c.property === PROPERTIES.finished);
  // A job that gave up has output missing by definition: then only duplicates and wrong restores are safety.
  const safety = unfinished ? bad.find((c) => SAFETY_WHEN_UNFINISHED.has(c.property)) : bad[0];
  if (safety) return { kind: "violated", property: safety.property, message: safety.message };
  if (unfinished) return { kind: "liveness", property: unfinished.property, message: unfinished.message };
  return { kind: "passed" };
}

/**
 * The spec one case runs: the scenario's job with the case's configuration, its seed and its
 * faults. A kill where checkpoints cannot survive one (JobManager memory storage) becomes an
 * in-process crash: losing them there is by design, which `--process` runs show plainly.
 */
export function caseSpec(spec: ScenarioSpec, c: RunCase): ScenarioSpec {
  const job = applyConfig(spec.job, c.config);
  const noKills = job.backend === "memory";
  const faults = noKills ? c.faults.map((f): Fault => (f.kind === "kill" ? { ...f, kind: "crash" } : (f.kind === "slow" || f.kind === "disk") && f.then === "kill" ? { ...f, then: "crash" } : f)) : [...c.faults];
  return { ...spec, seed: String(c.engineSeed), job, feed: applyFeed(spec.feed, c.config), faults };
}

/** Runs one case; never throws: a throw is the outcome `crashed`. */
export function runCase(spec: ScenarioSpec, c: RunCase, opts: RunOptions = {}): { outcome: Outcome; run?: ScenarioRun } {
  try {
    const run = runScenario(caseSpec(spec, c), opts);
    return { outcome: classify(run), run };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { outcome: { kind: "crashed", error: `${err.name}: ${err.message}`, stack: err.stack ?? `${err.name}: ${err.message}` } };
  }
}
