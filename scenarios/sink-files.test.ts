import { describe, expect, it } from "vitest";
import { MemFs } from "../sim/faults/mem-fs.ts";
import { runScenario } from "./run-scenario.ts";
import { scenario } from "./spec.ts";

/**
 * The transactional file sink's files are bounded by the output, not by the number of
 * checkpoints: a four-minute run checkpointing every 100 ms at parallelism 4 used to leave one
 * part file per subtask per checkpoint (9,592 for 30 windows, 9,577 of them empty).
 */
function filesAfter(crashes: number, checkpointIntervalMs = 100): { files: number; empty: number; valid: boolean | "unknown"; windows: number; status: string; restarts: number } {
  const fs = new MemFs();
  const spec = scenario({
    name: "sink-files",
    seed: "7",
    job: { backend: "memory", disk: "mem", sourceParallelism: 4, windowParallelism: 4, checkpointIntervalMs, minPauseMs: 0 },
    feed: { kind: "generated", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT"], durationMs: 4 * 60_000, ratePerSec: 5 },
    faults: Array.from({ length: crashes }, (_, i) => ({ kind: "crash" as const, point: "task.process" as const, occurrence: 500 * (i + 1) })),
  });
  const run = runScenario(spec, { fs });
  const parts = fs.readdir("/flinch/out").filter((f) => f.startsWith("part-"));
  const empty = parts.filter((f) => fs.readFile(`/flinch/out/${f}`).length === 0).length;
  return { files: parts.length, empty, valid: run.valid, windows: run.committed.length, status: run.result.status, restarts: run.result.restarts };
}

describe("transactional file sink: files bounded by the output", () => {
  it("a 4-minute run with a checkpoint every 100 ms leaves no empty files and a handful of part files", () => {
    const r = filesAfter(0);
    expect(r.valid).toBe(true);
    expect(r.windows).toBeGreaterThanOrEqual(24);
    expect(r.empty).toBe(0);
    // One open range per subtask plus fewer than compactAfter loose epochs each.
    expect(r.files).toBeLessThanOrEqual(4 * 16);
  });

  it("every 50 ms: the final checkpoint completes and the job finishes, though a periodic one overlaps it", () => {
    // Used to: a second final checkpoint triggered as the first completed was snapshotted by tasks
    // that had not yet heard of the first's completion; they waited for it, the tasks that had
    // finished never acknowledged it (5 of 8), it expired after 600 s, 10 restarts, FAILED.
    const r = filesAfter(3, 50);
    expect(r.status).toBe("FINISHED");
    expect(r.restarts).toBe(3);
    expect(r.valid).toBe(true);
  });

  it("with crashes and restores the output is still exactly the oracle's, and still compact", () => {
    const r = filesAfter(3);
    expect(r.valid).toBe(true);
    expect(r.empty).toBe(0);
    expect(r.files).toBeLessThanOrEqual(4 * 4 * 16);
  });
});
