import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { CRASH_POINTS, FAULT_POINTS } from "../engine/checkpoint/faults.ts";
import type { Fs } from "../engine/state/fs.ts";
import { NoValidCheckpointError } from "../engine/checkpoint/restore.ts";
import type { Fault } from "../sim/faults/fault-plan.ts";
import type { SimFs } from "../sim/faults/sim-fs.ts";
import { runChaos } from "./chaos.ts";
import { runScenario } from "./run-scenario.ts";
import { runCase } from "./outcome.ts";
import { parseConfig } from "./swarm.ts";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { SCENARIOS, scenario, type Backend, type ScenarioSpec } from "./spec.ts";

const CHK = "/flinch/checkpoints/job";

function spec(p: number, seed: string, faults: Fault[], over: Partial<ScenarioSpec["job"]> = {}): ScenarioSpec {
  return scenario({
    name: "durability",
    seed,
    job: { backend: "file" as Backend, disk: "sim", sourceParallelism: p, windowParallelism: p, checkpointIntervalMs: 10_000, retained: 2, restart: { kind: "fixed-delay", attempts: 20, delay: 500 }, ...over },
    feed: { kind: "generated", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], durationMs: 3 * 60_000, ratePerSec: 15 },
    faults,
  });
}

const passages = new Map<number, Map<string, number>>();
const passagesFor = (p: number) => passages.get(p) ?? passages.set(p, runScenario(spec(p, "calibration", [])).passages).get(p)!;

/** The newest chk-n directory's first state file. */
function latestStateFile(fs: Fs): { chk: number; file: string } {
  const chk = Math.max(...fs.readdir(CHK).filter((d) => /^chk-\d+$/.test(d)).map((d) => Number(d.slice(4))));
  const file = fs.readdir(`${CHK}/chk-${chk}`).find((f) => f.endsWith(".state"))!;
  return { chk, file: `${CHK}/chk-${chk}/${file}` };
}

describe("process kills on the file backend, with a disk that loses unsynced writes", () => {
  const arb = fc
    .record({ backend: fc.constantFrom<Backend>("file", "kv"), p: fc.integer({ min: 1, max: 4 }), point: fc.constantFrom(...FAULT_POINTS), seed: fc.integer({ min: 0, max: 1e9 }), frac: fc.double({ min: 0, max: 1, noNaN: true }), crashToo: fc.boolean() })
    .map(({ backend, p, point, seed, frac, crashToo }) => {
      const max = Math.max(1, passagesFor(p).get(point) ?? 1);
      const faults: Fault[] = [{ kind: "kill", point, occurrence: 1 + Math.floor(frac * max) }];
      if (crashToo) faults.push({ kind: "crash", point: "task.process", occurrence: 1 + Math.floor(frac * 100) });
      return { backend, p, seed: String(seed), faults };
    });

  test.prop([arb], { numRuns: 50 })("file and kv backends: every property holds and each new process resumes from the latest completed checkpoint", ({ backend, p, seed, faults }) => {
    const run = runScenario(spec(p, seed, faults, { backend }));
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
  });

  it("a kill before each file-system call under the checkpoint directories: every property holds", () => {
    // State files written and fsynced, _metadata written, fsynced, renamed into place, directories
    // fsynced: a kill between any two of these calls must leave either the last checkpoint or this one.
    let k = 1;
    for (; k <= 600; k++) {
      const run = runScenario(spec(1, "commit", [{ kind: "kill", point: "fs.write", occurrence: k, task: "chk-" }]));
      if (run.fired.length === 0) break; // past the last such call of the run
      for (const c of run.checks) expect(c.valid, `kill at call ${k}: ${c.property}: ${c.message}`).toBe(true);
      expect(run.kills.map((x) => x.site), `kill at call ${k}`).toEqual([`fs.write in ${run.fired[0].site.task}`]); // the process died there, whatever code was running
    }
    expect(k).toBeGreaterThan(100);
    expect(k).toBeLessThan(600);
  });

  it("a kill between a checkpoint's _metadata rename and its directory's fsync, the disk keeping the rename: the next process resumes from that checkpoint, and the check agrees", () => {
    // A swarm finding against the check, not the engine: the dead coordinator had not yet counted
    // checkpoint 16 as completed, but its commit point was on disk, so the new process rightly
    // resumed from it. The check now asks the disk about the checkpoint the kill interrupted.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 2, config: parseConfig("incremental=true,sourceParallelism=4,rescale=10010:1"), faults: parsePlan("kill@fs.write#340") });
    expect(outcome.kind).toBe("passed");
    expect(run!.kills.map((k) => [k.site, k.lastCompleted, k.resumedFrom])).toEqual([["fs.write in /flinch/checkpoints/job/chk-16", 16, 16]]);
  });

  it("a kill in the clean-up of a checkpoint whose metadata write failed after the rename: the next process resumes from it, and the check agrees", () => {
    // A swarm finding against the check (seed 7 of a teeth run): the fsync of chk-2's directory after
    // the _metadata rename failed (EIO), the coordinator aborted checkpoint 2, and the kill came in
    // the abort's discard. The rename had reached the disk, so checkpoint 2 was whole there and the
    // new process rightly resumed from it; the check took the dead coordinator's word (1) for it.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 1706999419, config: parseConfig("windowParallelism=3"), faults: parsePlan("kill@fs.write#50, disk:eio-fsync@chk-#24") });
    expect(outcome.kind).toBe("passed");
    expect(run!.kills.map((k) => [k.site, k.lastCompleted, k.resumedFrom])).toEqual([["fs.write in /flinch/checkpoints/job/chk-2", 2, 2]]);
  });

  it("an incremental checkpoint triggered before any completed is written whole, even if its task hears of a completion first (a swarm finding)", () => {
    // `flinch chaos --runs 6000 --seed 55`, run 3178: checkpoints 2 and 3 were triggered before 1
    // completed, so the coordinator named no base; slow storage (asyncMs) held checkpoint 3's
    // barrier until the tasks had heard of 1's completion, and the heap strategy wrote 3 as a
    // delta against 1 all the same. The coordinator, not knowing 3 needed 1, discarded 1 when 2
    // completed (one retained); every restore then failed, through 3 and the chain after it.
    const { outcome } = runCase(SCENARIOS.swarm.spec, { engineSeed: 292340526, config: parseConfig("incremental=true,maxConcurrent=3,sourceParallelism=4,asyncMs=20000"), faults: parsePlan("crash@checkpoint.async-write#33") });
    expect(outcome).toEqual({ kind: "passed" });
  });

  it("with memory storage a kill at a file-system call is a crash; one in the coordinator's clean-up during a failover does not end the run", () => {
    // `flinch chaos --kinds kill --seed 503`: the crash (a kill, converted: memory storage) hit the discard of a
    // savepoint directory while a task failure was being handled, escaped the failover and ended the run as crashed.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig("backend=memory,rescale=10000:1"), faults: parsePlan("kill@fs.write#6, kill@fs.write#6") }, { keepTrace: true });
    expect(outcome.kind).toBe("passed");
    expect(run!.result.trace.filter((l) => l.includes("coordinator failed during failover")).map((l) => l.trim().replace(/^\d+ /, ""))).toEqual(["coordinator failed during failover: injected crash at fs.write in /flinch/savepoints/chk-1"]);
  });

  it("a commit whose output-directory fsync failed is made durable by the recovery that finds it in place (a swarm finding)", () => {
    // `flinch chaos --kinds kill,disk,crash,slow --max-faults 6 --seed 901`, run 2399: the rename of cp 5's transaction
    // was never made durable, checkpoint 6 no longer listed it, and the power loss of the kill put it back in _pending,
    // where recovery deleted it: 2 of 12 windows missing.
    const { outcome, run } = runCase(SCENARIOS.swarm.spec, { engineSeed: 16, config: {}, faults: parsePlan("disk:eio-fsync@/out#8, kill@fs.write#139") });
    expect(outcome.kind).toBe("passed");
    expect(run!.kills.map((k) => k.resumedFrom)).toEqual([5]);
  });

  it("the memory backend's JobManager storage loses every checkpoint in a kill, and the run says so", () => {
    const run = runScenario(spec(2, "mem", [{ kind: "kill", point: "checkpoint.complete", occurrence: 4 }], { backend: "memory" }));
    const k = run.checks.find((c) => c.property.startsWith("after a process kill"))!;
    expect(k.valid).toBe(false);
    expect(k.message).toMatch(/JobManagerCheckpointStorage keeps checkpoints in the process's memory, so the kill lost checkpoint 4 and the new process started from scratch/);
    expect(run.valid).toBe(false);
  });
});

describe("corrupt checkpoints are detected, and restore falls back to an older whole one", () => {
  const kill: Fault[] = [{ kind: "kill", point: "checkpoint.complete", occurrence: 5 }];
  const corruptions: [string, (fs: Fs, file: string) => void, RegExp][] = [
    ["truncated", (fs, f) => fs.writeFile(f, fs.readFile(f).subarray(0, 20)), /length mismatch|truncated/],
    ["bit-flipped", (fs, f) => {
      const b = fs.readFile(f).slice();
      b[b.length - 3] ^= 0x10;
      fs.writeFile(f, b);
    }, /CRC32 mismatch/],
    ["missing", (fs, f) => fs.unlink(f), /missing/],
  ];

  it.each(corruptions)("a %s state file: the next process resumes from the previous checkpoint and the output is still exact", (_what, corrupt, reason) => {
    let hit: { chk: number; file: string } | undefined;
    const run = runScenario(spec(2, "corrupt", kill), {
      betweenProcesses: (fs) => {
        hit = latestStateFile(fs);
        corrupt(fs, hit.file);
        if (fs.exists(hit.file)) fs.fsync(hit.file);
        fs.fsyncDir(path.dirname(hit.file));
      },
    });
    expect(hit!.chk).toBe(5);
    expect(run.result.startedFrom?.checkpointId).toBe(4);
    expect(run.result.startedFrom?.skipped).toHaveLength(1);
    expect(run.result.startedFrom?.skipped[0].checkpointId).toBe(5);
    expect(run.result.startedFrom?.skipped[0].reason).toMatch(reason);
    for (const c of run.checks.filter((c) => !c.property.startsWith("after a process kill"))) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
    // The kill check sees the fallback for what it is: checkpoint 5 completed but could not be used.
    expect(run.checks.find((c) => c.property.startsWith("after a process kill"))!.message).toMatch(/resumed from checkpoint 4, but the latest completed checkpoint was 5/);
  });

  it("a transient read error (EIO) while restoring is not corruption: the attempt fails over and restores the latest checkpoint", () => {
    let hit: { chk: number; file: string } | undefined;
    const run = runScenario(spec(2, "corrupt", kill), {
      betweenProcesses: (fs) => {
        hit = latestStateFile(fs);
        (fs as SimFs).inject({ kind: "eio", op: "read", path: hit.file, occurrence: 1 });
      },
    });
    expect(hit!.chk).toBe(5);
    // Falling back to checkpoint 4 would re-commit what checkpoint 5 committed; the read is retried instead.
    expect(run.result.startedFrom?.checkpointId).toBe(5);
    expect(run.result.startedFrom?.skipped).toEqual([]);
    expect(run.result.failures.map((f) => f.error)).toEqual([expect.stringMatching(/CheckpointUnavailable|chk-5 could not be read.*EIO/)]);
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
  });

  it("with no whole checkpoint left, the job refuses to start empty and says why", () => {
    expect(() =>
      runScenario(spec(2, "corrupt", kill, { retained: 1 }), {
        betweenProcesses: (fs) => {
          const { file } = latestStateFile(fs);
          fs.writeFile(file, fs.readFile(file).subarray(0, 20));
          fs.fsync(file);
        },
      }),
    ).toThrow(NoValidCheckpointError);
  });
});

describe("teeth on the disk: fsync that lies", () => {
  it("on the sink's pre-commit files: chaos with kills finds lost output", () => {
    const r = runChaos({ spec: spec(2, "lie", [], { diskFaults: [{ kind: "lying-fsync", path: "_pending" }] }), runs: 100, seed: 9, kinds: ["kill"], args: [] });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0].faults.length).toBeLessThanOrEqual(2);
  });

  it("on checkpoint state files: a violation or a detected corruption, never a silent pass", () => {
    let detected = 0, violations = 0;
    for (let i = 0; i < 12; i++) {
      let run;
      try {
        run = runScenario(spec(2, `lie-${i}`, [{ kind: "kill", point: "checkpoint.complete", occurrence: 3 + i }], { diskFaults: [{ kind: "lying-fsync", path: ".state" }] }));
      } catch (e) {
        expect(e).toBeInstanceOf(NoValidCheckpointError);
        detected++;
        continue;
      }
      if (run.result.startedFrom?.skipped.length) detected++;
      else if (run.valid === false) violations++;
      else expect.fail(`run ${i}: lying fsync went unnoticed`);
    }
    expect(detected + violations).toBe(12);
  });
});

describe("incremental checkpoints under crashes and kills", () => {
  const arb = fc.record({
    p: fc.integer({ min: 1, max: 4 }),
    retained: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 0, max: 1e9 }),
    backend: fc.constantFrom<Backend>("file", "kv"),
    faults: fc.array(
      fc.record({ kind: fc.constantFrom("crash" as const, "kill" as const), point: fc.constantFrom(...CRASH_POINTS), occurrence: fc.integer({ min: 1, max: 40 }) }),
      { minLength: 1, maxLength: 3 },
    ),
  });
  test.prop([arb], { numRuns: 30 })("every property holds, and restores replay the delta chains exactly", ({ backend, p, retained, seed, faults }) => {
    const run = runScenario(spec(p, String(seed), faults, { backend, incremental: true, retained, checkpointIntervalMs: 5_000 }));
    for (const c of run.checks) expect(c.valid, `${c.property}: ${c.message}`).toBe(true);
  });

  it("restores from a delta chain to exactly the output of full checkpoints", () => {
    const kill: Fault[] = [{ kind: "kill", point: "checkpoint.complete", occurrence: 20 }];
    const full = runScenario(spec(2, "inc", kill, { checkpointIntervalMs: 2_000 }));
    const inc = runScenario(spec(2, "inc", kill, { checkpointIntervalMs: 2_000, incremental: true }));
    expect(inc.committed).toEqual(full.committed);
    expect(inc.valid).toBe(true);
    expect(inc.result.startedFrom?.checkpointId).toBe(full.result.startedFrom?.checkpointId);
  });
});
