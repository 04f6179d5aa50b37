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

describe("two kills at one point (issue 9, bug 4)", () => {
  it("the worker reports the kill that fired by its index, so the next process keeps the other one", async () => {
    // Both at checkpoint.ack; the Source kill (index 1) fires first. Finding the fired kill by its
    // point alone removed index 0 instead, and the second process died at a Source ack again.
    const s = { ...spec("file", "checkpoint.ack", 1), faults: [{ kind: "kill" as const, point: "checkpoint.ack" as const, occurrence: 6, task: "Window" }, { kind: "kill" as const, point: "checkpoint.ack" as const, occurrence: 1, task: "Source" }] };
    const r = await runWithProcessKills(s);
    expect(r.processes).toBe(3);
    expect(r.kills[0].site).toMatch(/^checkpoint\.ack in .*Source/);
    expect(r.kills[1].site).toMatch(/^checkpoint\.ack in Window/);
    for (const c of r.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
  });
});
