import { describe, expect, it } from "vitest";
import type { FaultPoint } from "../engine/checkpoint/faults.ts";
import { runWithProcessKills } from "./process-kills.ts";
import { scenario, type Backend } from "./spec.ts";

/** Real child processes, real SIGKILL, real disk: bounded to a handful of runs so CI stays fast. */
function spec(backend: Backend, point: FaultPoint, occurrence: number) {
  return scenario({
    name: "process-kill",
    seed: "11",
    job: { backend, sourceParallelism: 2, windowParallelism: 2, checkpointIntervalMs: 20_000, retained: 2 },
    feed: { kind: "generated", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 3 * 60_000, ratePerSec: 10 },
    faults: [{ kind: "kill", point, occurrence }],
  });
}

const DURABLE: Backend[] = ["file", "kv"];
const POINTS: [FaultPoint, number][] = [["checkpoint.complete", 3], ["sink.pre-commit", 4], ["checkpoint.async-write", 5]];

describe("SIGKILL of the job process at a fault point; a new process resumes from disk", () => {
  for (const backend of DURABLE) {
    it.each(POINTS)(`${backend} backend, killed at %s #%i: exact output, resumed from the latest completed checkpoint`, async (point, occurrence) => {
      const r = await runWithProcessKills(spec(backend, point, occurrence));
      expect(r.processes).toBe(2);
      expect(r.kills).toHaveLength(1);
      for (const c of r.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
    });
  }

  it("memory backend: the kill loses every checkpoint, and the run says so instead of passing", async () => {
    const r = await runWithProcessKills(spec("memory", "checkpoint.complete", 3));
    expect(r.valid).toBe(false);
    expect(r.checks.find((c) => c.valid === false)!.message).toMatch(/JobManagerCheckpointStorage keeps checkpoints in the process's memory, so the kill lost checkpoint 3/);
  });
});
