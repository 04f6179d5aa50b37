import { describe, expect, it } from "vitest";
import { runCase } from "./outcome.ts";
import { SCENARIOS } from "./spec.ts";
import { LIVENESS_MARGIN_MS } from "./run-scenario.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";

// A run that cannot finish must end, classified: the harness stops it at its liveness bound
// (virtual time after the tape's last trade) instead of running forever.
describe("the liveness bound of a simulated run", () => {
  it("stops a job still running an hour of virtual time after its tape and calls it liveness", () => {
    // Every sync snapshot takes 20 minutes, 40 times over: the final checkpoint (end of input waits for it) comes hours late.
    const minutes20 = LIVENESS_MARGIN_MS / 3;
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: {}, faults: parsePlan(`slow@checkpoint.sync-snapshot#1+${minutes20}ms*40`) });
    expect(outcome).toEqual({ kind: "liveness", property: "the job finished", message: "still running 60 minutes of virtual time after the tape ended (its liveness bound), after 6 restarts" });
    expect(run?.result.status).toBe("CANCELED");
  });

  it("leaves a run that finishes inside the bound alone", () => {
    const { outcome } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: {}, faults: parsePlan("slow@checkpoint.sync-snapshot#1+600000ms") });
    expect(outcome).toEqual({ kind: "passed" });
  });
});
