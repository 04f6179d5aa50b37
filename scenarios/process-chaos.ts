import fc from "fast-check";
import type { FaultPoint } from "../engine/checkpoint/faults.ts";
import type { Fault } from "../sim/faults/fault-plan.ts";
import type { ChaosFailure } from "./chaos.ts";
import { faultPlan } from "./arbitraries/fault-plan.ts";
import { classify, outcomeMessage, outcomeProperty, type Outcome } from "./outcome.ts";
import { runWithProcessKills, type ProcessRun } from "./process-kills.ts";
import { formatReplayLine } from "./replay-line.ts";
import { runScenario } from "./run-scenario.ts";
import type { ScenarioSpec } from "./spec.ts";

/** A finding of `--process` chaos: the in-process finding's type (scenarios/chaos.ts), less what only shrinking gives. */
export type ProcessChaosFailure = Pick<ChaosFailure, "seed" | "path" | "outcome" | "property" | "message" | "faults" | "replay"> & { readonly run?: ProcessRun };

export interface ProcessChaosResult {
  readonly runs: number;
  readonly passed: number;
  readonly kills: number;
  readonly failure?: ProcessChaosFailure;
}

/**
 * Chaos with real SIGKILLs: fast-check draws 1..maxFaults kills at fault points the run
 * passes; each run is a chain of child processes. A failure is reported without shrinking
 * (each shrink step would cost several process starts); its replay line reproduces it. A
 * worker that dies of anything but its planned SIGKILL is the outcome `crashed`.
 */
export async function runProcessChaos(o: { spec: ScenarioSpec; runs: number; seed: number; path?: string; maxFaults?: number; points?: readonly FaultPoint[]; args: readonly string[] }): Promise<ProcessChaosResult> {
  const calib = runScenario({ ...o.spec, faults: [] });
  const arb = fc.record({
    engineSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    faults: faultPlan({ passages: calib.passages, maxFaults: o.maxFaults ?? 2, points: o.points, kinds: ["kill"] }),
  });
  let runs = 0, kills = 0;
  let failing: { faults: Fault[]; outcome: Outcome; run?: ProcessRun } | undefined;
  const details = await fc.check(
    fc.asyncProperty(arb, async ({ engineSeed, faults }) => {
      runs++;
      let run: ProcessRun;
      try {
        run = await runWithProcessKills({ ...o.spec, seed: String(engineSeed), faults });
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        failing = { faults, outcome: { kind: "crashed", error: `${err.name}: ${err.message}`, stack: err.stack ?? err.message } };
        return false;
      }
      kills += run.kills.length;
      const outcome = classify(run);
      if (outcome.kind !== "passed") {
        failing = { faults, outcome, run };
        return false;
      }
      return true;
    }),
    { numRuns: o.runs, seed: o.seed, path: o.path, endOnFailure: true },
  );
  if (!details.failed || !failing || details.counterexamplePath === null) return { runs, passed: runs, kills };
  const f = failing;
  return {
    runs, passed: runs - 1, kills,
    failure: {
      seed: o.seed, path: details.counterexamplePath, faults: f.faults, outcome: f.outcome, property: outcomeProperty(f.outcome), message: outcomeMessage(f.outcome), run: f.run,
      replay: formatReplayLine("chaos", ["--process", ...o.args, "--seed", String(o.seed), "--path", details.counterexamplePath]),
    },
  };
}
