/**
 * run.json: the model itself. Keys are sorted at every level so the file does not depend on
 * the order in which a builder happened to set fields: two runs with the same seed give
 * byte-identical files apart from the wall-clock figures, and diffs between runs stay small.
 */
import type { RunModel } from "./model.ts";

export function renderJson(model: RunModel): string {
  return JSON.stringify(canonical(model, "$"), null, 2) + "\n";
}

function canonical(v: unknown, path: string): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) {
    // JSON.stringify would write null, and the file would then fail its own schema far from the cause.
    throw new Error(`run model ${path} is ${v}: JSON cannot hold it; the model builder must give a finite number`);
  }
  if (typeof v === "bigint") throw new Error(`run model ${path} is a bigint: give quantities as 8-decimal strings`);
  if (Array.isArray(v)) return v.map((x, i) => (x === undefined ? null : canonical(x, `${path}[${i}]`)));
  if (v === null || typeof v !== "object") return v;
  // A null prototype so a key named "__proto__" (counters can be named from input) stays a key.
  const out: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined && typeof x !== "function") out[k] = canonical(x, `${path}.${k}`);
  }
  return out;
}
