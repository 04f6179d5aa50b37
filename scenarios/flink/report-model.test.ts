import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generateTape } from "../../sim/binance/generator.ts";
import { checkAgainstSchema } from "../../reports/schema-check.ts";
import { readRunModel, writeReport } from "../../reports/write-report.ts";
import { PROPERTIES } from "../checkers.ts";
import { windowOracle } from "../oracle.ts";
import { formatReplayLine } from "../replay-line.ts";
import { checkFlinkRun, type FlinkChaosResult } from "./chaos.ts";
import { buildFlinkRunModel, type FlinkModelContext } from "./report-model.ts";
import type { FlinkRunResult } from "./run.ts";

/** The `flink chaos` report built from synthetic run results (no JVM): what the real runs would hand it. */
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const WINDOW = 60_000;
const tape = generateTape({ seed: "flink-report", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 3 * 60_000, ratePerSec: 10 });
const oracle = windowOracle(tape, WINDOW);

function run(committed: FlinkRunResult["committed"], fired: string[], kills: FlinkRunResult["kills"] = []): FlinkRunResult {
  return { status: "FINISHED", committed, late: [], fired, jvms: 1 + kills.length, kills, checkpointsRetained: 2, wallMs: 4000 };
}

function result(runs: { plan: string[]; run: FlinkRunResult }[]): FlinkChaosResult {
  const verdicts = runs.map((r, index) => ({ index, plan: r.plan, run: r.run, checks: checkFlinkRun(tape, WINDOW, r.run) }));
  const failures = verdicts.flatMap((v) => {
    const bad = v.checks.find((c) => c.valid === false);
    return bad ? [{ index: v.index, plan: v.plan, shrunk: v.plan.slice(0, 1), property: bad.property, message: bad.message }] : [];
  });
  return { verdicts, failures };
}

function ctx(res: FlinkChaosResult, runId: string): FlinkModelContext {
  const replays = res.failures.map((f) => formatReplayLine("flink chaos", ["--mode", "at-least-once", "--seed", "7", "--faults", f.shrunk.join(",")]));
  return { runId, seed: "7", tape, inputs: ["generated"], backend: "filesystem", mode: "at-least-once", sink: "file", parallelism: 2, intervalMs: 100, windowMs: WINDOW, wallMs: 8000, replays };
}

function write(res: FlinkChaosResult, runId: string) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-flink-report-"));
  dirs.push(out);
  const model = buildFlinkRunModel(res, ctx(res, runId));
  const dir = writeReport(model, out);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8"));
  return { model, dir, json, read: (f: string) => fs.readFileSync(path.join(dir, f), "utf8") };
}

describe("flink chaos report", () => {
  it("a passing campaign: every window ok, properties hold, no violations, schema-valid, read back", () => {
    const res = result([
      { plan: ["crash@checkpoint.complete#2"], run: run(oracle, ["crash@checkpoint.complete#2\tWindow(1/2)"]) },
      { plan: ["kill@checkpoint.metadata#1"], run: run(oracle, ["kill@checkpoint.metadata#1\tJVM"], [{ fault: "kill@checkpoint.metadata#1", resumedFrom: 1, latestRetained: 1 }]) },
    ]);
    const { model, dir, json, read } = write(res, "flink-pass");
    expect(checkAgainstSchema(json)).toEqual([]);
    expect(readRunModel(dir).summary.runId).toBe("flink-pass");
    expect(model.summary).toMatchObject({ status: "FINISHED", backend: "filesystem", mode: "at-least-once", parallelism: 2, userSeed: "7", engineSeed: "7/1", trades: tape.stats.trades, restarts: 1 });
    expect(model.violations).toEqual([]);
    expect(model.properties.map((p) => p.valid)).toEqual([true, true, true, true]);
    expect(model.windows.length).toBe(oracle.length);
    expect(model.windows.every((w) => w.status === "ok" && w.expectedQuantity === w.committedQuantity)).toBe(true);
    expect(model.counters).toMatchObject({ "runs": 2, "runs.passed": 2, "flink.jvms": 2, "flink.kills": 1, "all-runs.jvms": 3, "all-runs.crashes": 1, "all-runs.faults.checkpoint.metadata": 1 });
    expect(model.runs?.map((r) => r.valid)).toEqual([true, true]);
    expect(model.timeline).toEqual([]);
    expect(model.warnings[1]).toMatch(/this run had 1 restart\(s\) \(0 in-JVM crash\(es\), 1 JVM kill\(s\)\)/);
    for (const f of ["report.html", "report.md", "junit.xml"]) expect(read(f).length).toBeGreaterThan(200);
    expect(read("junit.xml")).not.toContain("<failure");
  });

  it("a failing campaign: the duplicated window shows as such, the violation carries its replay line into every format", () => {
    const dup = [...oracle, oracle[1]];
    const res = result([
      { plan: [], run: run(oracle, []) },
      { plan: ["crash@checkpoint.complete#3", "crash@task.process#50"], run: run(dup, ["crash@checkpoint.complete#3\tSource(2/2)", "crash@task.process#50\tWindow(1/2)"]) },
    ]);
    const { model, json, read } = write(res, "flink-fail");
    expect(checkAgainstSchema(json)).toEqual([]);
    expect(model.summary.engineSeed).toBe("7/1");
    expect(model.plan).toEqual(["crash@checkpoint.complete#3", "crash@task.process#50"]);
    expect(model.summary.restarts).toBe(2);
    const replay = "npx flinch flink chaos --mode at-least-once --seed 7 --faults 'crash@checkpoint.complete#3'";
    // The shown run violates three properties (the duplicate also breaks "once" and conservation): both replay with the same line.
    expect(model.violations).toEqual([
      { property: PROPERTIES.oracle, message: res.failures[0].message, seed: "7", engineSeed: "7/1", replay, faults: ["crash@checkpoint.complete#3"] },
      { property: PROPERTIES.once, message: expect.stringMatching(/committed more than once/), seed: "7", engineSeed: "7/1", replay, faults: ["crash@checkpoint.complete#3"] },
      { property: PROPERTIES.conservation, message: expect.stringMatching(/too many/), seed: "7", engineSeed: "7/1", replay, faults: ["crash@checkpoint.complete#3"] },
    ]);
    expect(model.properties.filter((p) => p.valid === false).map((p) => p.name)).toEqual([PROPERTIES.oracle, PROPERTIES.once, PROPERTIES.conservation]);
    const w = model.windows.find((x) => x.symbol === oracle[1].symbol && x.start === oracle[1].start)!;
    expect(w).toMatchObject({ status: "duplicate", commits: 2, expectedCount: oracle[1].count, committedCount: 2 * oracle[1].count });
    expect(model.windows.filter((x) => x.status !== "ok").length).toBe(1);
    expect(model.runs?.map((r) => r.valid)).toEqual([true, false]);
    expect(read("report.md")).toContain(replay);
    expect(read("report.html")).toContain("crash@checkpoint.complete#3");
    expect(read("report.html")).toContain("npx flinch flink chaos");
    expect(read("junit.xml")).toContain("<failure");
  });
});
