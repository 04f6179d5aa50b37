import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runChaos } from "../chaos.ts";
import { REFERENCE_PROPERTY } from "../reference.ts";
import { SCENARIOS, type ScenarioSpec } from "../spec.ts";
import { loadJobModule } from "./job-module.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

async function swarmFor(file: string): Promise<ScenarioSpec> {
  const module = await loadJobModule(path.join(here, file));
  const s = SCENARIOS.swarm.spec;
  return { ...s, job: { ...s.job, module }, feed: { kind: "generated", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 3 * 60_000, ratePerSec: 10 } };
}

describe("any job, checked against its reference run (DESIGN §9)", () => {
  it.each(["vwap.ts", "side-counts.ts"])("the example job %s holds under the swarm", async (file) => {
    const r = runChaos({ spec: await swarmFor(file), runs: 12, seed: 3, args: [] });
    expect(r.failures.map((f) => `${f.message} — ${f.replay}`)).toEqual([]);
    expect(r.runs).toBe(12);
    expect(r.sample!.checks.map((c) => c.property)).toContain(REFERENCE_PROPERTY);
    expect(r.sample!.outputLines.length).toBeGreaterThan(0);
  });

  it("a job that keeps its state in a closure is caught: rows differ from the reference run", async () => {
    const r = runChaos({ spec: await swarmFor("closure-count.ts"), runs: 30, seed: 3, args: ["--job", "closure-count.ts"] });
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0].property).toBe(REFERENCE_PROPERTY);
    expect(r.failures[0].faults.length).toBeLessThanOrEqual(2);
    expect(r.failures[0].replay).toMatch(/^npx flinch chaos --job closure-count\.ts --engine-seed \d+ /);
  });
});
