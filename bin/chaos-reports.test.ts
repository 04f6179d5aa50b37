import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "./main.ts";
import type { RunModel } from "../reports/model.ts";
import { PROGRESS_BATCHES, runScenario } from "../scenarios/run-scenario.ts";
import { SCENARIOS } from "../scenarios/spec.ts";
import { runProcessChaos } from "../scenarios/process-chaos.ts";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-chaos-reports-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const l = vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const e = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    return { code: await main(argv), out };
  } finally {
    l.mockRestore();
    e.mockRestore();
  }
}

const model = (d: string): RunModel => JSON.parse(fs.readFileSync(path.join(d, "run.json"), "utf8"));

describe("chaos over several backends: side by side", () => {
  it("--backend all: every combination's report carries the whole matrix; the summary names report.html", async () => {
    const out = path.join(dir, "all");
    const r = await cli("chaos", "--scenario", "exactly-once", "--backend", "all", "--runs", "2", "--workers", "1", "--out", out);
    expect(r.code).toBe(0);
    const dirs = r.out.filter((l) => l.startsWith("  report: ")).map((l) => l.slice(10));
    expect(dirs).toHaveLength(3);
    for (const d of dirs) {
      const m = model(d);
      expect(m.matrix?.map((x) => [x.scenario, x.backend, x.mode, x.runs, x.passed, x.findings, x.reportDir])).toEqual(
        (["memory", "file", "kv"] as const).map((b, i) => ["exactly-once", b, "exactly-once", 2, 2, 0, dirs[i]]));
      expect(fs.readFileSync(path.join(d, "report.md"), "utf8")).toContain("## Backends and modes (3)");
      expect(fs.readFileSync(path.join(d, "report.html"), "utf8")).toContain('id="matrix"');
    }
    expect(r.out).toContain("3 combinations, 6 runs, 0 findings; each report shows all 3 side by side");
    expect(r.out.at(-1)).toBe(`report: ${path.join(dirs[0], "report.html")}`);
  });

  it("one combination: no matrix, and the summary still ends with report.html", async () => {
    const r = await cli("chaos", "--scenario", "exactly-once", "--backend", "memory", "--runs", "1", "--workers", "1", "--out", path.join(dir, "one"), "--json");
    const j = JSON.parse(r.out.at(-1)!);
    expect(j.reportHtml).toBe(path.join(j.reportDir, "report.html"));
    expect(model(j.reportDir).matrix).toBeUndefined();
  });
});

describe("chaos --process writes a report like in-process chaos", () => {
  it("a failing campaign (memory storage dies with the process): run.json, md, html and junit, with the replay line", async () => {
    const r = await cli("chaos", "--process", "--backend", "memory", "--scenario", "exactly-once", "--runs", "1", "--out", path.join(dir, "process"), "--json");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out.at(-1)!);
    expect(j).toMatchObject({ process: true, runs: 1, violations: 1 });
    const d = j.reportDir[0];
    for (const f of ["run.json", "report.md", "report.html", "junit.xml"]) expect(fs.existsSync(path.join(d, f))).toBe(true);
    expect(j.reportHtml).toBe(path.join(d, "report.html"));
    const m = model(d);
    expect(m.summary).toMatchObject({ command: "chaos", userSeed: "42", engineSeed: String(j.failures[0].engineSeed), backend: "memory" });
    expect(m.violations[0]).toMatchObject({ property: j.failures[0].property, replay: j.failures[0].replay, seed: "42", path: j.failures[0].path });
    expect(m.violations[0].replay).toMatch(/^npx flinch chaos --process --scenario exactly-once --backend memory .* --seed 42 --path \d/);
    expect(m.properties.find((p) => p.name === j.failures[0].property)?.valid).toBe(false);
    expect(m.warnings[0]).toMatch(/^chaos --process: the properties are the verdict of the real processes \(\d+ processes, \d+ SIGKILLs\)/);
    expect(m.counters["process.kills"]).toBe(j.kills);
    expect(fs.readFileSync(path.join(d, "junit.xml"), "utf8")).toContain(j.failures[0].replay);
  });
});

describe("chaos --process progress", () => {
  it("the runner reports each finished run (and whether it failed) for the bar", async () => {
    const base = SCENARIOS["exactly-once"].spec;
    const calls: [number, boolean][] = [];
    const r = await runProcessChaos({ spec: { ...base, job: { ...base.job, backend: "memory" } }, runs: 3, seed: 42, args: [], onRun: (d, f) => void calls.push([d, f]) });
    // memory storage dies with the process: the first run fails and the campaign ends there.
    expect(r.failure).toBeDefined();
    expect(calls).toEqual([[1, true]]);
  });
});

describe("progress of a long run: the scenario runner's hook", () => {
  it("calls back once per PROGRESS_BATCHES batches with rising virtual time, and leaves the trace as it was", () => {
    const spec = SCENARIOS["exactly-once"].spec;
    const calls: { t: number; batches: number }[] = [];
    const watched = runScenario(spec, { onProgress: (t, batches) => void calls.push({ t, batches }) });
    const plain = runScenario(spec);
    expect(watched.result.traceHash).toBe(plain.result.traceHash);
    const batches = plain.passages.get("task.process") ?? 0;
    expect(batches).toBeGreaterThan(PROGRESS_BATCHES);
    expect(calls.map((c) => c.batches)).toEqual(Array.from({ length: Math.floor(batches / PROGRESS_BATCHES) }, (_, i) => (i + 1) * PROGRESS_BATCHES));
    for (let i = 1; i < calls.length; i++) expect(calls[i].t).toBeGreaterThanOrEqual(calls[i - 1].t);
    expect(calls[0].t).toBeGreaterThanOrEqual(plain.result.startTime);
    expect(calls.at(-1)!.t).toBeLessThanOrEqual(plain.result.endTime);
  });
});
