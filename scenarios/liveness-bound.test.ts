import { describe, expect, it } from "vitest";
import { runCase } from "./outcome.ts";
import { SCENARIOS } from "./spec.ts";
import { LIVENESS_MARGIN_MS, RESTART_BOUND } from "./run-scenario.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";

// A run that cannot finish must end, classified: the harness stops it at its liveness bound
// (virtual time after the tape's last trade) instead of running forever.
describe("the liveness bound of a simulated run", () => {
  it("stops a job still running an hour of virtual time after its tape and calls it liveness", () => {
    // Every sync snapshot takes 20 minutes, 40 times over: the final checkpoint (end of input waits for it) comes hours late.
    const minutes20 = LIVENESS_MARGIN_MS / 3;
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: {}, faults: parsePlan(`slow@checkpoint.sync-snapshot#1+${minutes20}ms*40`) });
    expect(outcome).toEqual({ kind: "liveness", property: "the job finished (or gave up as its restart strategy says)", message: "still running 60 minutes of virtual time after the tape ended (its liveness bound), after 6 restarts" });
    expect(run?.result.status).toBe("CANCELED");
  });

  it("stops a job at its 100th restart in one process and calls it liveness: every restore fails, and the strategy never gives up", () => {
    // Every read of a checkpoint file fails, so every restart after the crash fails its restore; the
    // exponential backoff is capped at 1 ms. Without the bound: a restart a millisecond for an hour.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("restart=exponential-delay:1:1:1.5:60000:0,backend=file"), faults: parsePlan("crash@task.process#3000, disk:eio-read@chk-") });
    expect(outcome).toEqual({ kind: "liveness", property: "the job finished (or gave up as its restart strategy says)", message: `still restarting after 100 restarts in one process (its restart bound)` });
    expect(RESTART_BOUND).toBe(100);
    expect(run?.result.status).toBe("CANCELED");
  });

  it("leaves a run that finishes inside the bound alone", () => {
    const { outcome } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: {}, faults: parsePlan("slow@checkpoint.sync-snapshot#1+600000ms") });
    expect(outcome).toEqual({ kind: "passed" });
  });
});
