import { describe, expect, it } from "vitest";
import { renderJson } from "./render-json.ts";
import { hostileModel, sampleModel } from "./sample-model.ts";
import { checkAgainstSchema, runModelSchema, type Schema } from "./schema-check.ts";
import type { RunModel } from "./model.ts";

/** Rebuilds every object with its keys in reverse order: same data, different insertion order. */
function reversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversed);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)]));
}

describe("renderJson", () => {
  it("writes 2-space JSON with sorted keys, independent of insertion order", () => {
    const m = sampleModel();
    const text = renderJson(m);
    expect(text).toBe(renderJson(reversed(m) as RunModel));
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.split("\n")[1]).toBe('  "checkpoints": [');
    const top = Object.keys(JSON.parse(text));
    expect(top).toEqual([...top].sort());
    expect(top[top.length - 1]).toBe("windows");
    expect(Object.keys(JSON.parse(text).summary)).toEqual(Object.keys(m.summary).sort());
  });

  it("round-trips the model", () => {
    const m = sampleModel();
    expect(JSON.parse(renderJson(m))).toEqual(m);
    const h = hostileModel();
    expect(JSON.parse(renderJson(h))).toEqual(JSON.parse(JSON.stringify(h)));
    expect(Object.hasOwn(JSON.parse(renderJson(h)).counters, "__proto__")).toBe(true);
  });

  it("drops undefined optional fields and refuses numbers JSON cannot hold, naming the field", () => {
    const m = sampleModel({ summary: { failureReason: undefined } });
    expect(renderJson(m)).not.toContain("failureReason\": null");
    expect(() => renderJson(sampleModel({ summary: { tradesPerSec: Number.NaN } }))).toThrow(/\$\.summary\.tradesPerSec is NaN/);
    const bad = sampleModel();
    bad.checkpoints[1].stateBytes = Infinity;
    expect(() => renderJson(bad)).toThrow(/\$\.checkpoints\[1\]\.stateBytes is Infinity/);
  });
});

describe("run-model.schema.json", () => {
  const schema = runModelSchema();

  it("is a draft 2020-12 schema whose $refs all resolve", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    const refs = JSON.stringify(schema).match(/"#\/\$defs\/[A-Za-z]+"/g) ?? [];
    const defs = schema.$defs as Record<string, Schema>;
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(defs[r.slice(9, -1)], r).toBeDefined();
  });

  it("accepts the sample, the hostile sample, an empty model and a model without runs", () => {
    expect(checkAgainstSchema(JSON.parse(renderJson(sampleModel())))).toEqual([]);
    expect(checkAgainstSchema(JSON.parse(renderJson(hostileModel())))).toEqual([]);
    const empty = sampleModel({ windows: [], checkpoints: [], timeline: [], late: [], properties: [], violations: [], warnings: [], plan: [], counters: {}, runs: undefined });
    expect(checkAgainstSchema(JSON.parse(renderJson(empty)))).toEqual([]);
  });

  it("names every required top-level field of the model", () => {
    expect([...(schema.required as string[])].sort()).toEqual(Object.keys(sampleModel()).filter((k) => k !== "runs").sort());
  });

  it("reports each problem with its path", () => {
    const m = JSON.parse(renderJson(sampleModel())) as Record<string, any>;
    m.windows[3].committedQuantity = "1.5";
    m.windows[4].status = "lost";
    delete m.summary.engineSeed;
    m.summary.colour = "red";
    m.checkpoints[0].id = 1.5;
    m.timeline[0] = { kind: "crash", time: 1, task: "t" };
    m.version = 3;
    const errors = checkAgainstSchema(m);
    expect(errors).toContain("$.windows[3].committedQuantity: \"1.5\" does not match ^[0-9]+\\.[0-9]{8}$");
    expect(errors).toContain('$.windows[4].status: expected one of "ok", "missing", "duplicate", "wrong-sum", "unexpected", got "lost"');
    expect(errors).toContain('$.summary: missing required field "engineSeed"');
    expect(errors).toContain('$.summary: unknown field "colour" (not in run-model.schema.json)');
    expect(errors).toContain("$.checkpoints[0].id: expected integer, got number");
    expect(errors).toContain('$.timeline[0]: missing required field "error"');
    expect(checkAgainstSchema({ ...m, version: 1 })).toContain("$.version: expected 2, got 1");
  });

  it("refuses a keyword it does not implement instead of skipping it", () => {
    expect(() => checkAgainstSchema("x", { type: "string", format: "date" })).toThrow(/unsupported keyword "format"/);
  });
});
