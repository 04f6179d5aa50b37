import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderJson } from "./render-json.ts";
import { hostileModel, sampleModel } from "./sample-model.ts";
import { readRunModel, writeReport } from "./write-report.ts";

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-reports-")); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe("writeReport", () => {
  it("writes run.json, report.md, report.html and junit.xml into <outRoot>/<runId>/", () => {
    const m = sampleModel();
    const dir = writeReport(m, path.join(tmp, "out"));
    expect(dir).toBe(path.join(tmp, "out", "chaos-1597463007-12-0-1"));
    expect(fs.readdirSync(dir).sort()).toEqual(["junit.xml", "report.html", "report.md", "run.json"]);
    expect(fs.readFileSync(path.join(dir, "run.json"), "utf8")).toBe(renderJson(m));
    expect(fs.readFileSync(path.join(dir, "report.md"), "utf8")).toContain(m.violations[0].replay);
    expect(fs.readFileSync(path.join(dir, "junit.xml"), "utf8")).toContain('tests="5" failures="2"');
  });

  it("writes only the asked formats and overwrites an earlier report", () => {
    const m = sampleModel();
    writeReport(m, tmp);
    const dir = writeReport(sampleModel({ warnings: ["second run"] }), tmp, ["md", "junit"]);
    expect(fs.readdirSync(dir).sort()).toEqual(["junit.xml", "report.html", "report.md", "run.json"]);
    expect(fs.readFileSync(path.join(dir, "report.md"), "utf8")).toContain("- second run");
    const fresh = writeReport(sampleModel({ summary: { runId: "only-md" } }), tmp, ["md"]);
    expect(fs.readdirSync(fresh)).toEqual(["report.md"]);
  });

  it("refuses a run id that would leave outRoot and an unknown format, writing nothing", () => {
    for (const runId of ["../escape", "a/b", "..", "", ".hidden"]) {
      expect(() => writeReport(sampleModel({ summary: { runId } }), tmp), runId).toThrow(/cannot name a report directory/);
    }
    expect(() => writeReport(sampleModel(), tmp, ["json", "pdf"])).toThrow('unknown report format "pdf": expected one of json, md, html, junit');
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

describe("readRunModel", () => {
  it("reads back exactly the model that was written", () => {
    for (const m of [sampleModel(), hostileModel()]) {
      expect(readRunModel(writeReport(m, tmp, ["json"]))).toEqual(JSON.parse(JSON.stringify(m)));
    }
  });

  it("names the file when run.json is missing", () => {
    const file = path.join(tmp, "run.json");
    expect(() => readRunModel(tmp)).toThrow(`${file}: not found`);
  });

  it("reads a version 1 run.json: its seed was the engine seed, the user's seed is unknown", () => {
    const m = JSON.parse(renderJson(sampleModel()));
    const { userSeed: _u, engineSeed, ...summary } = m.summary;
    fs.writeFileSync(path.join(tmp, "run.json"), JSON.stringify({ ...m, version: 1, summary: { ...summary, seed: engineSeed } }));
    const read = readRunModel(tmp);
    expect(read.version).toBe(2);
    expect([read.summary.userSeed, read.summary.engineSeed]).toEqual([null, "24"]);
  });

  it("names the file when run.json is not JSON", () => {
    fs.writeFileSync(path.join(tmp, "run.json"), "{ truncated");
    expect(() => readRunModel(tmp)).toThrow(new RegExp(`^${path.join(tmp, "run.json").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: not valid JSON: `));
  });

  it("names the file and the fields when run.json is not a run model", () => {
    const m = JSON.parse(renderJson(sampleModel()));
    m.windows[0].status = "fine";
    delete m.summary.traceHash;
    fs.writeFileSync(path.join(tmp, "run.json"), JSON.stringify(m));
    expect(() => readRunModel(tmp)).toThrow(`${path.join(tmp, "run.json")}: not a valid run model (reports/run-model.schema.json):\n  $.summary: missing required field "traceHash"\n  $.windows[0].status: expected one of`);
    fs.writeFileSync(path.join(tmp, "run.json"), JSON.stringify({ ...m, version: 7 }));
    expect(() => readRunModel(tmp)).toThrow(`${path.join(tmp, "run.json")}: run model version 7, this flinch reads version 2`);
    fs.writeFileSync(path.join(tmp, "run.json"), "[]");
    expect(() => readRunModel(tmp)).toThrow("$: expected object, got array");
  });
});
