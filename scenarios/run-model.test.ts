import { describe, expect, it } from "vitest";
import { checkAgainstSchema } from "../reports/schema-check.ts";
import { renderJson } from "../reports/render-json.ts";
import { renderJunit } from "../reports/render-junit.ts";
import { buildRunModel } from "./run-model.ts";
import { runScenario } from "./run-scenario.ts";
import { SCENARIOS } from "./spec.ts";

/**
 * A real failing run (at-least-once with one crash during barrier alignment: a record that
 * overtook the barrier is counted twice), turned into a model the way `flinch chaos` does.
 */
describe("buildRunModel on a real counterexample", () => {
  const base = SCENARIOS["at-least-once"].spec;
  const run = runScenario({ ...base, seed: "20", faults: [{ kind: "crash", point: "checkpoint.alignment", occurrence: 5 }] });
  const replay = "npx flinch chaos --scenario at-least-once --runs 30 --seed 42 --path 28:5:8:5";
  const failed = run.checks.filter((c) => c.valid === false);

  it("is a failing run that violates more than one property", () => {
    expect(run.valid).toBe(false);
    expect(failed.length).toBeGreaterThan(1);
  });

  it("keeps the user's seed and the engine seed apart, and gives every violated property the replay line", () => {
    const first = failed[0];
    const m = buildRunModel(run, {
      runId: "chaos-at-least-once", command: "chaos", inputs: [], wallMs: 1, replay, userSeed: "42",
      violations: [{ property: first.property, message: first.message, seed: "42", path: "28:5:8:5", replay }],
    });
    expect([m.summary.userSeed, m.summary.engineSeed]).toEqual(["42", "20"]);
    expect(m.violations.map((v) => v.property)).toEqual(failed.map((c) => c.property));
    for (const v of m.violations) expect([v.seed, v.engineSeed, v.path, v.replay]).toEqual(["42", "20", "28:5:8:5", replay]);
    expect(checkAgainstSchema(JSON.parse(renderJson(m)))).toEqual([]);
    const junit = renderJunit(m);
    expect(junit).not.toContain("no replay command was recorded");
    expect(junit.split(`replay: ${replay}`).length - 1).toBe(failed.length);
  });

  it("without a user seed: run and replay say one seed, chaos falls back to its finding's seed", () => {
    const asRun = buildRunModel(run, { runId: "r", command: "run", inputs: [], wallMs: 1, replay: "npx flinch run --seed 20" });
    expect([asRun.summary.userSeed, asRun.summary.engineSeed]).toEqual(["20", "20"]);
    expect(asRun.violations.map((v) => [v.seed, v.replay])).toEqual(failed.map(() => ["20", "npx flinch run --seed 20"]));
    const asChaos = buildRunModel(run, { runId: "c", command: "chaos", inputs: [], wallMs: 1, replay,
      violations: [{ property: failed[0].property, message: failed[0].message, seed: "42", replay }] });
    expect(asChaos.summary.userSeed).toBe("42");
  });

  it("carries a backends × modes matrix when given one", () => {
    const matrix = [{ scenario: "at-least-once", backend: "memory", mode: "at-least-once", runs: 29, passed: 28, findings: 1 }];
    expect(buildRunModel(run, { runId: "c", command: "chaos", inputs: [], wallMs: 1, replay, matrix }).matrix).toEqual(matrix);
    expect(buildRunModel(run, { runId: "c", command: "chaos", inputs: [], wallMs: 1, replay }).matrix).toBeUndefined();
  });
});
