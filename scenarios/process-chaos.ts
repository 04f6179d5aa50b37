import fc from "fast-check";
import type { FaultPoint } from "../engine/checkpoint/faults.ts";
import type { Fault } from "../sim/faults/fault-plan.ts";
import { faultPlan } from "./arbitraries/fault-plan.ts";
import { runWithProcessKills, type ProcessRun } from "./process-kills.ts";
import { runScenario } from "./run-scenario.ts";
import type { ScenarioSpec } from "./spec.ts";

export interface ProcessChaosResult {
  readonly runs: number;
  readonly passed: number;
  readonly kills: number;
  readonly failure?: { seed: number; path: string; faults: Fault[]; property: string; message: string; replay: string; run: ProcessRun };
}

/**
 * Chaos with real SIGKILLs: fast-check draws 1..maxFaults kills at fault points the run
 * passes; each run is a chain of child processes. A failure is reported without shrinking
 * (each shrink step would cost several process starts); its replay line reproduces it.
 */
export async function runProcessChaos(o: { spec: ScenarioSpec; runs: number; seed: number; path?: string; maxFaults?: number; points?: readonly FaultPoint[]; command: string }): Promise<ProcessChaosResult> {
  const calib = runScenario({ ...o.spec, faults: [] });
  const arb = fc.record({
    engineSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    faults: faultPlan({ passages: calib.passages, maxFaults: o.maxFaults ?? 2, points: o.points, kinds: ["kill"] }),
  });
  let runs = 0, kills = 0;
  let failing: { faults: Fault[]; run: ProcessRun } | undefined;
  const details = await fc.check(
    fc.asyncProperty(arb, async ({ engineSeed, faults }) => {
      const run = await runWithProcessKills({ ...o.spec, seed: String(engineSeed), faults });
      runs++;
      kills += run.kills.length;
      if (run.valid === false) {
        failing = { faults, run };
        return false;
      }
      return true;
    }),
    { numRuns: o.runs, seed: o.seed, path: o.path, endOnFailure: true },
  );
  if (!details.failed || !failing || details.counterexamplePath === null) return { runs, passed: runs, kills };
  const bad = failing.run.checks.find((c) => c.valid === false)!;
  return {
    runs, passed: runs - 1, kills,
    failure: { seed: o.seed, path: details.counterexamplePath, faults: failing.faults, property: bad.property, message: bad.message, replay: `${o.command} --seed ${o.seed} --path ${details.counterexamplePath}`, run: failing.run },
  };
}
