import { FAULT_KINDS, validatePlan } from "../sim/faults/fault-plan.ts";
import { FEED_TOXIC_KINDS } from "../sim/binance/toxics.ts";
import { DEFAULT_SCENARIO, type JobSpec, type ScenarioSpec } from "./spec.ts";
import { SWARM_DIMENSIONS } from "./swarm.ts";

/** A scenario file that does not match the schema: a user error (exit 2) naming file and field. */
export class ScenarioFileError extends Error {
  override readonly name = "ScenarioFileError";
  readonly exitCode = 2;
}

type Rule = (v: unknown) => string | undefined;
const oneOf = (...xs: string[]): Rule => (v) => (typeof v === "string" && xs.includes(v) ? undefined : `unknown value ${JSON.stringify(v)}; known: ${xs.join(", ")}`);
const whole = (min: number, max = Number.MAX_SAFE_INTEGER): Rule => (v) => (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `expected a whole number in ${min}..${max}, got ${JSON.stringify(v)}`);
const bool: Rule = (v) => (typeof v === "boolean" ? undefined : `expected true or false, got ${JSON.stringify(v)}`);
const object: Rule = (v) => (typeof v === "object" && v !== null && !Array.isArray(v) ? undefined : `expected an object, got ${JSON.stringify(v)}`);
const array: Rule = (v) => (Array.isArray(v) ? undefined : `expected an array, got ${JSON.stringify(v)}`);

/** The schema of `job`: every field, its domain. */
const JOB: Record<keyof JobSpec, Rule> = {
  backend: oneOf("memory", "file", "kv"),
  mode: oneOf("exactly-once", "at-least-once"),
  sourceParallelism: whole(1, 64),
  windowParallelism: whole(1, 64),
  windowMs: whole(1, 7 * 86_400_000),
  outOfOrdernessMs: whole(0, 86_400_000),
  checkpointIntervalMs: whole(1, 86_400_000),
  minPauseMs: whole(0, 86_400_000),
  timeoutMs: whole(1, 86_400_000),
  maxConcurrent: whole(1, 16),
  tolerableFailures: whole(0, 1_000),
  retained: whole(1, 100),
  restart: object,
  sink: oneOf("transactional", "print"),
  batchSize: whole(1, 100_000),
  disk: oneOf("mem", "sim"),
  diskFaults: array,
  incremental: bool,
  rescale: object,
  savepoint: (v) => object(v) ?? whole(0, 86_400_000)((v as { atMs?: unknown }).atMs),
  unaligned: bool,
  alignedTimeoutMs: whole(0, 86_400_000),
  compactAfter: whole(1, 1_000_000),
  asyncMs: whole(1, 3_600_000),
  module: (v) => (typeof v === "string" ? undefined : `expected a path, got ${JSON.stringify(v)}`),
};

/**
 * Parses a scenario file (JSON) against the schema and merges it over the default scenario.
 * Unknown fields, backends, modes, fault kinds and points are refused by name, never ignored:
 * a fault that cannot fire must not make a run pass.
 */
export function parseScenarioFile(text: string, file: string): ScenarioSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScenarioFileError(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const fail = (field: string, why: string) => new ScenarioFileError(`${file}: ${field}: ${why}`);
  if (object(raw)) throw fail("(top level)", object(raw)!);
  const r = raw as Record<string, unknown>;
  const TOP = ["name", "description", "seed", "job", "feed", "faults", "faultKinds", "swarm", "feedFaults", "drawFeedFaults", "guarantee"];
  for (const k of Object.keys(r)) if (!TOP.includes(k)) throw fail(k, `unknown field; known: ${TOP.join(", ")}`);
  if (r.name !== undefined && typeof r.name !== "string") throw fail("name", "expected a string");
  if (r.seed !== undefined && typeof r.seed !== "string" && !Number.isSafeInteger(r.seed)) throw fail("seed", "expected a string or a whole number");
  const job: Record<string, unknown> = { ...DEFAULT_SCENARIO.job };
  if (r.job !== undefined) {
    if (object(r.job)) throw fail("job", object(r.job)!);
    for (const [k, v] of Object.entries(r.job as object)) {
      const rule = JOB[k as keyof JobSpec];
      if (!rule) throw fail(`job.${k}`, `unknown field; known: ${Object.keys(JOB).join(", ")}`);
      const why = rule(v);
      if (why) throw fail(`job.${k}`, why);
      job[k] = v;
    }
  }
  if (r.feed !== undefined) {
    if (object(r.feed)) throw fail("feed", object(r.feed)!);
    const f = r.feed as Record<string, unknown>;
    const why = oneOf("generated", "fixture")(f.kind);
    if (why) throw fail("feed.kind", why);
  }
  const faults = (() => {
    try {
      return validatePlan(r.faults ?? [], `${file}: faults`);
    } catch (e) {
      throw new ScenarioFileError(e instanceof Error ? e.message : String(e));
    }
  })();
  const diskFaults = (() => {
    try {
      return validatePlan((job.diskFaults as unknown[]).map((d) => ({ kind: "disk", disk: d })), `${file}: job.diskFaults`).map((f) => (f.kind === "disk" ? f.disk : undefined)!);
    } catch (e) {
      throw new ScenarioFileError(e instanceof Error ? e.message : String(e));
    }
  })();
  if (r.guarantee !== undefined) {
    const why = oneOf("exactly-once", "at-least-once")(r.guarantee);
    if (why) throw fail("guarantee", why);
  }
  for (const k of (r.faultKinds as unknown[] | undefined) ?? []) if (!(FAULT_KINDS as readonly unknown[]).includes(k)) throw fail("faultKinds", `unknown fault kind ${JSON.stringify(k)}; known: ${FAULT_KINDS.join(", ")}`);
  for (const d of (r.swarm as unknown[] | undefined) ?? []) if (!(SWARM_DIMENSIONS as readonly unknown[]).includes(d)) throw fail("swarm", `unknown dimension ${JSON.stringify(d)}; known: ${SWARM_DIMENSIONS.join(", ")}`);
  const feedFaults = r.feedFaults as { toxics?: { kind?: unknown }[] } | undefined;
  for (const t of feedFaults?.toxics ?? []) if (!(FEED_TOXIC_KINDS as readonly unknown[]).includes(t.kind)) throw fail("feedFaults", `unknown toxic kind ${JSON.stringify(t.kind)}; known: ${FEED_TOXIC_KINDS.join(", ")}`);
  return {
    ...DEFAULT_SCENARIO,
    ...(r as Partial<ScenarioSpec>),
    name: typeof r.name === "string" ? r.name : file,
    seed: r.seed === undefined ? DEFAULT_SCENARIO.seed : String(r.seed),
    job: { ...(job as unknown as JobSpec), diskFaults },
    feed: (r.feed as ScenarioSpec["feed"]) ?? DEFAULT_SCENARIO.feed,
    faults,
  };
}
