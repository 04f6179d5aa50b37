import fc from "fast-check";
import { CRASH_POINTS, type FaultPoint } from "../engine/checkpoint/faults.ts";
import type { Fault } from "../sim/faults/fault-plan.ts";
import type { ChaosFailure } from "./chaos.ts";
import { faultPlan } from "./arbitraries/fault-plan.ts";
import { classify, outcomeMessage, outcomeProperty, type Outcome } from "./outcome.ts";
import { runWithProcessKills, type ProcessRun } from "./process-kills.ts";
import { formatReplayLine } from "./replay-line.ts";
import { runScenario, type ScenarioRun } from "./run-scenario.ts";
import type { ScenarioSpec } from "./spec.ts";

/** A finding of `--process` chaos: the in-process finding's type (scenarios/chaos.ts), less what only shrinking gives. */
export type ProcessChaosFailure = Pick<ChaosFailure, "seed" | "path" | "outcome" | "property" | "message" | "faults" | "replay" | "engineSeed"> & { readonly run?: ProcessRun };

export interface ProcessChaosResult {
  readonly runs: number;
  readonly passed: number;
  readonly kills: number;
  readonly failure?: ProcessChaosFailure;
  /** The in-process run without faults that placed the kills: what a report shows when no run failed. */
  readonly calibration: ScenarioRun;
}

/**
 * Chaos with real SIGKILLs: fast-check draws 1..maxFaults kills at fault points the run
 * passes; each run is a chain of child processes. A failure is reported without shrinking
 * (each shrink step would cost several process starts); its replay line reproduces it. A
 * worker that dies of anything but its planned SIGKILL is the outcome `crashed`.
 */
export async function runProcessChaos(o: { spec: ScenarioSpec; runs: number; seed: number; path?: string; maxFaults?: number; points?: readonly FaultPoint[]; args: readonly string[]; onRun?: (done: number, failed: boolean) => void }): Promise<ProcessChaosResult> {
  const calib = runScenario({ ...o.spec, faults: [] });
  const arb = fc.record({
    engineSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    // The children write to the real disk, which counts no `fs.write` passages: kills there would never fire.
    faults: faultPlan({ passages: calib.passages, maxFaults: o.maxFaults ?? 2, points: o.points ?? CRASH_POINTS, kinds: ["kill"] }),
  });
  let runs = 0, kills = 0;
  let failing: { engineSeed: number; faults: Fault[]; outcome: Outcome; run?: ProcessRun } | undefined;
  const details = await fc.check(
    fc.asyncProperty(arb, async ({ engineSeed, faults }) => {
      runs++;
      let run: ProcessRun;
      try {
        run = await runWithProcessKills({ ...o.spec, seed: String(engineSeed), faults });
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        failing = { engineSeed, faults, outcome: { kind: "crashed", error: `${err.name}: ${err.message}`, stack: err.stack ?? err.message } };
        o.onRun?.(runs, true);
        return false;
      }
      kills += run.kills.length;
      const outcome = classify(run);
      o.onRun?.(runs, outcome.kind !== "passed");
      if (outcome.kind !== "passed") {
        failing = { engineSeed, faults, outcome, run };
        return false;
      }
      return true;
    }),
    { numRuns: o.runs, seed: o.seed, path: o.path, endOnFailure: true },
  );
  if (!details.failed || !failing || details.counterexamplePath === null) return { runs, passed: runs, kills, calibration: calib };
  const f = failing;
  return {
    runs, passed: runs - 1, kills, calibration: calib,
    failure: {
      seed: o.seed, engineSeed: f.engineSeed, path: details.counterexamplePath, faults: f.faults, outcome: f.outcome, property: outcomeProperty(f.outcome), message: outcomeMessage(f.outcome), run: f.run,
      replay: formatReplayLine("chaos", ["--process", ...o.args, "--seed", String(o.seed), "--path", details.counterexamplePath]),
    },
  };
}
