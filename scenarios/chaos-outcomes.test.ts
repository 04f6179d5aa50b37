import { describe, expect, it } from "vitest";
import { main } from "../bin/main.ts";
import { faultLabel, parsePlan } from "../sim/faults/fault-plan.ts";
import { runChaosPool } from "./chaos-pool.ts";
import { classify, runCase } from "./outcome.ts";
import { splitShellWords } from "./replay-line.ts";
import { SCENARIOS } from "./spec.ts";
import { SWARM_DIMENSIONS } from "./swarm.ts";

const eo = SCENARIOS["exactly-once"].spec;

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { code: await main(argv), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

describe("every outcome is classified", () => {
  it("a job that gives up as its restart strategy says passes (what it committed is exact); one that cannot finish otherwise is liveness, not a violation", () => {
    const { outcome, run } = runCase(eo, { engineSeed: 1, config: { restart: { kind: "none" } }, faults: parsePlan("crash@checkpoint.complete#2") });
    expect(outcome).toEqual({ kind: "passed" });
    expect(run!.result.status).toBe("FAILED");
    expect(classify({ checks: [{ property: "the job finished (or gave up as its restart strategy says)", valid: false, message: "ended FAILED" }] })).toMatchObject({ kind: "liveness" });
  });

  it("a job that gave up with a checkpoint that is not a consistent cut, or a failover the rule did not call for, is a violation of that property", () => {
    const check = (property: string) => ({ property, valid: false, message: "m" });
    const finished = { property: "the job finished (or gave up as its restart strategy says)", valid: false, message: "ended FAILED" };
    for (const p of ["every completed checkpoint is a consistent cut of the tape", "the job failed over exactly when checkpoint failures exceeded the tolerable number"]) {
      expect(classify({ checks: [finished, check(p)] })).toEqual({ kind: "violated", property: p, message: "m" });
    }
    // Output missing from a job that gave up is what giving up means: liveness.
    expect(classify({ checks: [check("committed output equals the oracle"), finished] })).toMatchObject({ kind: "liveness" });
  });

  it("an fsync EIO while discarding a failed task's pending checkpoint is survived (a swarm finding that crashed the run)", () => {
    // `flinch chaos --seed 3`, run 4101, before the fix: crashed with "EIO: i/o error, fsync '/flinch/checkpoints/job'".
    const { outcome } = runCase(SCENARIOS.swarm.spec, { engineSeed: 22, config: { batchSize: 1 }, faults: parsePlan("disk:eio-fsync#21, crash@checkpoint.alignment#5") });
    expect(outcome.kind).toBe("passed");
  });

  it("a throw is `crashed` with its stack, and the printed replay line reproduces it", async () => {
    // 51 kills: the harness refuses a run that never stops dying (a throw no correct run makes).
    const plan = Array.from({ length: 51 }, () => "kill@task.process#1").join(", ");
    const { outcome } = runCase(eo, { engineSeed: 3, config: {}, faults: parsePlan(plan) });
    expect(outcome.kind).toBe("crashed");
    if (outcome.kind !== "crashed") return;
    expect(outcome.error).toMatch(/more than 50 process kills/);
    expect(outcome.stack).toMatch(/run-scenario\.ts/);

    const first = await cli("chaos", "--scenario", "exactly-once", "--engine-seed", "3", "--faults", plan, "--json");
    expect(first.code).toBe(1);
    const j = JSON.parse(first.out) as { outcome: string; message: string; replay: string };
    expect(j).toMatchObject({ outcome: "crashed", message: expect.stringMatching(/more than 50 process kills/) });
    const words = splitShellWords(j.replay);
    expect(words.slice(0, 3)).toEqual(["npx", "flinch", "chaos"]);
    const again = await cli(...words.slice(2), "--json");
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out)).toMatchObject({ outcome: "crashed", message: j.message });
  });

  it("an unknown fault point, kind or config dimension on the command line is exit 2 naming it", async () => {
    const err: string[] = [];
    const e = console.error;
    console.error = (...a: unknown[]) => void err.push(a.join(" "));
    try {
      expect(await cli("chaos", "--faults", "crash@nowhere#1", "--engine-seed", "1")).toMatchObject({ code: 2 });
      expect(await cli("chaos", "--faults", "meteor@checkpoint.ack#1", "--engine-seed", "1")).toMatchObject({ code: 2 });
      expect(await cli("chaos", "--config", "backend=tape", "--faults", "")).toMatchObject({ code: 2 });
      expect(await cli("chaos", "--run", "0", "--path", "garbage!!")).toMatchObject({ code: 2 });
    } finally {
      console.error = e;
    }
    expect(err.join("\n")).toMatch(/unknown fault point "nowhere"/);
    expect(err.join("\n")).toMatch(/unknown fault kind "meteor"/);
    expect(err.join("\n")).toMatch(/unknown backend "tape"/);
    expect(err.join("\n")).toMatch(/--path: expected a fast-check replay path/);
    for (const l of err) expect(l.split("\n")).toHaveLength(1);
  });
});

describe("swarm campaigns", () => {
  // A short feed keeps 150 runs cheap; the draws are the swarm's own.
  const spec = { ...SCENARIOS.swarm.spec, feed: { kind: "generated" as const, symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 90_000, ratePerSec: 5 } };
  const o = { spec, runs: 50, seed: 7, args: [], shrink: false, stopOnFailure: false };

  it("the same 50 seeds give the same per-run results on 1 thread, on 2 threads, and as shards 1/2 + 2/2; every kind and dimension is drawn and counted", async () => {
    const one = await runChaosPool(o, { workers: 1 });
    const two = await runChaosPool(o, { workers: 2 });
    const s1 = await runChaosPool(o, { workers: 1, shard: { i: 1, n: 2 } });
    const s2 = await runChaosPool(o, { workers: 1, shard: { i: 2, n: 2 } });
    expect(one.runs).toBe(50);
    for (let i = 0; i < 50; i++) if (JSON.stringify(one.records[i]) !== JSON.stringify(two.records[i])) console.error("DIFF", i, JSON.stringify(one.records[i]), "\n  ", JSON.stringify(two.records[i]));
    expect(two.records).toEqual(one.records);
    expect(two.traceHash).toBe(one.traceHash);
    expect(s1.records.every((r) => r.index % 2 === 0)).toBe(true);
    expect([...s1.records, ...s2.records].sort((x, y) => x.index - y.index)).toEqual(one.records);
    expect(two.failures.map((f) => [f.index, f.replay])).toEqual(one.failures.map((f) => [f.index, f.replay]));

    const kinds = new Set(Object.keys(one.drawn.faults).map((k) => k.split(":")[0]));
    expect([...kinds].sort()).toEqual(["crash", "disk", "kill", "lose", "skew", "slow", "toxic"]);
    for (const d of SWARM_DIMENSIONS) expect(one.drawn.config[d], d).toBeGreaterThan(0);
    expect(one.records.flatMap((r) => r.drawnFaults)).toContain(faultLabel({ kind: "disk", disk: { kind: "torn" } }));
  });
});
