import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseScenarioFile, ScenarioFileError } from "./spec-file.ts";
import { captureCli } from "../bin/capture-cli.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-spec-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => captureCli(argv);

describe("scenario files are parsed against a schema", () => {
  const bad: [string, unknown, RegExp][] = [
    ["unknown backend", { job: { backend: "tape" } }, /job\.backend: unknown value "tape"; known: memory, file, kv/],
    ["unknown fault point", { faults: [{ kind: "crash", point: "nowhere", occurrence: 1 }] }, /faults\[0\]: unknown fault point "nowhere"/],
    ["unknown fault kind", { faults: ["meteor@checkpoint.ack#1"] }, /unknown fault kind "meteor"/],
    ["unknown job field", { job: { paralelism: 2 } }, /job\.paralelism: unknown field/],
    ["unknown top-level field", { fautls: [] }, /fautls: unknown field/],
    ["bad number", { job: { maxConcurrent: 0 } }, /job\.maxConcurrent: expected a whole number in 1\.\.16/],
    ["bad async phase", { job: { asyncMs: 0 } }, /job\.asyncMs: expected a whole number in 1\.\.3600000/],
    ["unknown disk fault", { job: { diskFaults: [{ kind: "gremlin" }] } }, /job\.diskFaults/],
    ["unknown guarantee", { guarantee: "at-most-once" }, /guarantee: unknown value "at-most-once"; known: exactly-once, at-least-once/],
  ];
  it.each(bad)("refuses %s by name, as a user error", (_what, json, msg) => {
    let e: unknown;
    try {
      parseScenarioFile(JSON.stringify(json), "s.json");
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ScenarioFileError);
    expect((e as ScenarioFileError).exitCode).toBe(2);
    expect((e as Error).message).toMatch(/^s\.json: /);
    expect((e as Error).message).toMatch(msg);
  });

  it("reads a valid file over the default scenario, faults as plan strings", () => {
    const s = parseScenarioFile(JSON.stringify({ name: "x", job: { backend: "kv", incremental: true, asyncMs: 8000 }, faults: ["crash@checkpoint.ack#2[#1]", "disk:torn@_metadata"] }), "s.json");
    expect(s.job).toMatchObject({ backend: "kv", incremental: true, asyncMs: 8000, mode: "exactly-once" });
    expect(s.faults).toEqual([{ kind: "crash", point: "checkpoint.ack", occurrence: 2, task: "#1" }, { kind: "disk", disk: { kind: "torn", path: "_metadata" } }]);
  });

  it("chaos --spec and _worker --spec with a bad file: exit 2, one line naming it", async () => {
    const file = path.join(dir, "invalid.json");
    fs.writeFileSync(file, JSON.stringify({ job: { backend: "tape" } }));
    for (const argv of [["chaos", "--spec", file], ["_worker", "--spec", file, "--root", dir]]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err.split("\n")).toHaveLength(1);
      expect(r.err).toMatch(/unknown value "tape"/);
      expect(r.err).toContain(file);
    }
    fs.writeFileSync(file, "{ not json");
    expect((await cli("_worker", "--spec", file, "--root", dir)).code).toBe(2);
  });

  it("a counterexample's scenario file replays through chaos --spec", async () => {
    const file = path.join(dir, "counterexample.json");
    fs.writeFileSync(file, JSON.stringify({ name: "ce", seed: "5", job: { mode: "at-least-once" }, faults: [] }));
    const r = await cli("chaos", "--spec", file, "--engine-seed", "5", "--faults", "crash@checkpoint.complete#2", "--json");
    expect(JSON.parse(r.out)).toMatchObject({ runs: 1, outcome: expect.stringMatching(/passed|violated/) });
  });
});

describe("partial results survive", () => {
  it("SIGTERM ends a chaos run with the summary of the runs completed so far", async () => {
    const timer = setTimeout(() => process.emit("SIGTERM"), 1);
    const r = await cli("chaos", "--scenario", "exactly-once", "--runs", "10000", "--workers", "1", "--json", "--out", path.join(dir, "out"));
    clearTimeout(timer);
    const j = JSON.parse(r.out) as { runs: number; stopped: string; reportDir: string };
    expect(r.code).toBe(0);
    expect(j.stopped).toBe("SIGTERM");
    expect(j.runs).toBeGreaterThanOrEqual(1);
    expect(j.runs).toBeLessThan(10000);
    expect(fs.existsSync(j.reportDir)).toBe(true);
  });

  it("--time-budget ends the campaign when the time is up, with its summary", async () => {
    const r = await cli("chaos", "--scenario", "exactly-once", "--time-budget", "5s", "--workers", "1", "--json", "--out", path.join(dir, "out"));
    const j = JSON.parse(r.out) as { runs: number; stopped: string };
    expect(j.stopped).toBe("time budget");
    expect(j.runs).toBeGreaterThanOrEqual(1);
  });
});
