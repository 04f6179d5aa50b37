/**
 * A small JSON Schema (2020-12) checker for the keywords run-model.schema.json uses, so the
 * schema is enforced by readRunModel and the tests without a validator dependency. It refuses
 * a keyword it does not know rather than ignore it: a schema edit that needs more support
 * fails loudly in the tests instead of silently checking less.
 */
import { readFileSync } from "node:fs";

export type Schema = { [k: string]: unknown };

const KNOWN = new Set([
  "$schema", "$id", "$ref", "$defs", "title", "description", "type", "enum", "const", "pattern",
  "minimum", "minLength", "required", "properties", "additionalProperties", "items", "oneOf",
]);

let cached: Schema | undefined;

export function runModelSchema(): Schema {
  cached ??= JSON.parse(readFileSync(new URL("./run-model.schema.json", import.meta.url), "utf8")) as Schema;
  return cached;
}

/** Returns one line per problem ("summary.runId: expected string"); empty when the value conforms. */
export function checkAgainstSchema(value: unknown, schema: Schema = runModelSchema(), limit = 20): string[] {
  const errors: string[] = [];
  check(value, schema, schema, "$", errors, limit);
  return errors;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function check(v: unknown, s: Schema, root: Schema, at: string, errors: string[], limit: number): void {
  if (errors.length >= limit) return;
  for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`schema-check: unsupported keyword "${k}" at ${at}`);
  const fail = (msg: string) => { if (errors.length < limit) errors.push(`${at}: ${msg}`); };

  if (typeof s.$ref === "string") {
    const m = /^#\/\$defs\/([A-Za-z0-9_]+)$/.exec(s.$ref);
    const target = m ? (root.$defs as Record<string, Schema> | undefined)?.[m[1]] : undefined;
    if (!target) throw new Error(`schema-check: unresolvable $ref "${s.$ref}" at ${at}`);
    check(v, target, root, at, errors, limit);
  }
  if (Array.isArray(s.oneOf)) {
    const results = s.oneOf.map((alt) => { const e: string[] = []; check(v, alt as Schema, root, at, e, limit); return e; });
    const passing = results.filter((e) => e.length === 0).length;
    if (passing !== 1) {
      // The closest alternative's errors are the useful ones (e.g. the timeline event whose kind matched).
      const best = results.reduce((a, b) => (b.length < a.length ? b : a));
      if (passing > 1) fail("matches more than one alternative of oneOf");
      else for (const e of best) if (errors.length < limit) errors.push(e);
    }
    return;
  }
  if ("const" in s && v !== s.const) return fail(`expected ${JSON.stringify(s.const)}, got ${JSON.stringify(v)}`);
  if (Array.isArray(s.enum) && !s.enum.includes(v as never)) {
    return fail(`expected one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(v)}`);
  }
  const t = typeOf(v);
  if (typeof s.type === "string" && s.type !== t && !(s.type === "number" && t === "integer")) return fail(`expected ${s.type}, got ${t}`);
  if (typeof v === "number" && typeof s.minimum === "number" && v < s.minimum) fail(`expected at least ${s.minimum}, got ${v}`);
  if (typeof v === "string") {
    if (typeof s.minLength === "number" && v.length < s.minLength) fail(`expected at least ${s.minLength} characters`);
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(v)) fail(`${JSON.stringify(v)} does not match ${s.pattern}`);
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => check(x, s.items as Schema, root, `${at}[${i}]`, errors, limit));
  if (t === "object") {
    const o = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in o)) fail(`missing required field "${r}"`);
    for (const [k, x] of Object.entries(o)) {
      if (Object.hasOwn(props, k)) check(x, props[k], root, `${at}.${k}`, errors, limit);
      else if (s.additionalProperties === false) fail(`unknown field "${k}" (not in run-model.schema.json)`);
      else if (s.additionalProperties && typeof s.additionalProperties === "object") check(x, s.additionalProperties as Schema, root, `${at}.${k}`, errors, limit);
    }
  }
}
