import fc from "fast-check";
import type { RestartStrategy } from "../engine/api/restart-strategies.ts";
import type { Backend, FeedSpec, JobSpec, Mode, ScenarioSpec } from "./spec.ts";

/**
 * Swarm testing (Groce et al. 2012, TigerBeetle's VOPR): each run draws its configuration as
 * well as its faults, so a bug that lives only with incremental checkpoints, three concurrent
 * checkpoints or a rescale is reachable from plain `flinch chaos`. A configuration is the set of
 * dimensions that differ from the scenario's own job; an absent dimension is the default, and
 * every dimension shrinks toward absent (fc.option shrinks to nil), so a counterexample keeps
 * only what it needs.
 */
export interface SwarmConfig {
  backend?: Backend;
  incremental?: boolean;
  checkpointIntervalMs?: number;
  maxConcurrent?: number;
  tolerableFailures?: number;
  retained?: number;
  sourceParallelism?: number;
  windowParallelism?: number;
  batchSize?: number;
  restart?: RestartStrategy;
  /**
   * Stop with a savepoint `atMs` into the feed and restore the job from it at window parallelism
   * `parallelism`, and at source parallelism `sourceParallelism` when given; `loadMs`: the stop
   * comes under load (JobSpec.rescale).
   */
  rescale?: { atMs: number; parallelism: number; loadMs?: number; sourceParallelism?: number };
  /**
   * A savepoint that does not stop the job, `atMs` into the feed (JobSpec.savepoint): periodic
   * checkpoints go on around it, and a failover may restore from it. Without it the only
   * savepoints chaos ever took were a rescale's stops.
   */
  savepoint?: { atMs: number };
  /** Unaligned checkpoints (FLIP-76), going unaligned after `alignedTimeoutMs` of alignment (0: at once); EXACTLY_ONCE only. */
  unaligned?: { alignedTimeoutMs: number };
  /**
   * The file sink compacts a writer's committed epochs into one range file once this many are
   * visible. Its default (16) is rarely reached in a run of a few minutes, so without this draw
   * chaos never puts a fault near a compaction.
   */
  compactAfter?: number;
  /**
   * The job's checkpointing mode: AT_LEAST_ONCE (barriers not aligned: a task snapshots on the
   * last barrier and processes what overtakes the others), checked for at-least-once output.
   * Without it the at-least-once barrier handler never ran under chaos.
   */
  mode?: Mode;
  /**
   * The generated feed's symbols: `count` real Binance pairs from SYMBOL_POOL, starting at
   * `first` (wrapping), at the scenario's total trade rate. A key's key group follows from its
   * name, so three fixed symbols put keyed state in three fixed key groups of 128, and a bug at
   * a key-group range's boundary (which subtask owns group 64 at parallelism 2) never showed.
   */
  symbols?: { count: number; first: number };
  /**
   * Slow checkpoint storage: a snapshot's async phase takes up to this many ms (JobSpec.asyncMs),
   * drawn as half, twice or five times the run's checkpoint interval.
   * With the default 1-5 ms a checkpoint is over long before the next trigger, so concurrent
   * checkpoints, acks out of trigger order and deltas whose base is not the task's previous
   * snapshot happened only behind an injected slowdown.
   */
  asyncMs?: number;
}

/** Forty USDT pairs: their key groups (of 128) spread over 34 groups, boundaries of ranges included (EGLDUSDT 64, ATOMUSDT 96). */
export const SYMBOL_POOL: readonly string[] = "BTC ETH BNB SOL XRP ADA DOGE TRX DOT LTC SHIB AVAX LINK ATOM UNI XLM ETC BCH FIL APT ARB OP NEAR ICP VET HBAR AAVE GRT ALGO EGLD SAND MANA AXS THETA XTZ EOS FLOW CHZ SUI PEPE"
  .split(" ").map((s) => `${s}USDT`);

export type SwarmDimension = keyof SwarmConfig;
export const SWARM_DIMENSIONS: readonly SwarmDimension[] = [
  "backend", "incremental", "checkpointIntervalMs", "maxConcurrent", "tolerableFailures", "retained",
  "sourceParallelism", "windowParallelism", "batchSize", "restart", "rescale", "savepoint", "unaligned", "compactAfter", "mode", "symbols", "asyncMs",
];

/** What a scenario lets the swarm vary (teeth scenarios pin what makes them teeth). */
export interface SwarmBounds {
  readonly dimensions?: readonly SwarmDimension[];
}

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
/**
 * One run in eight: AT_LEAST_ONCE is the other guarantee, and a run of it cannot show a window
 * committed twice, which is what most protocol bugs do under EXACTLY_ONCE.
 */
const rare = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 7 }, { arbitrary: a, weight: 1 });

export function swarmConfig(spec: ScenarioSpec, bounds: SwarmBounds = {}): fc.Arbitrary<SwarmConfig> {
  const dims = new Set(bounds.dimensions ?? SWARM_DIMENSIONS);
  const restart: fc.Arbitrary<RestartStrategy> = fc.oneof(
    // Attempts on two scales: more than a run's faults can use up, or (one draw in four) 1 to 3,
    // which a run's failures may exhaust: the job then gives up and ends FAILED, as Flink's does,
    // and the restart check holds it to the failure where it must (a strategy that gives up one
    // failure late is seen only so).
    fc.record({ attempts: fc.oneof({ arbitrary: fc.integer({ min: 10, max: 30 }), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }), delay: fc.integer({ min: 0, max: 5_000 }) }).map((r): RestartStrategy => ({ kind: "fixed-delay", ...r })),
    // The cap on three scales: reached at once, after a failure or two, or seldom. Jitter in half
    // the draws (Flink's default factor 0.1, or 0.5): the restart check holds each delay to
    // backoff ± jitter × backoff, so a jitter applied to the wrong base or one way only shows.
    fc.record({ initial: fc.integer({ min: 1, max: 1_000 }), multiplier: fc.constantFrom(1.5, 2), cap: fc.constantFrom(1, 2, 0), jitter: fc.constantFrom(0, 0, 0.1, 0.5) })
      .map((r): RestartStrategy => ({ kind: "exponential-delay", initial: r.initial, max: r.cap === 0 ? 10_000 : r.initial * r.cap, multiplier: r.multiplier, resetThreshold: 60_000, jitter: r.jitter })),
    // Failures of one process come at least `delay` apart (each after the restart before it), so
    // an interval shorter than maxFailures × delay never holds more than maxFailures of them and
    // a correct job never gives up; from (maxFailures − 1) × delay on it can hold maxFailures, so
    // the sliding window, its count and its boundary are all exercised. One draw in four is an
    // interval of maxFailures × delay plus up to a minute, which can hold a failure more: the job
    // may give up, as configured (a strategy that gives up late is seen only so).
    fc.record({ maxFailures: fc.integer({ min: 1, max: 3 }), delay: fc.integer({ min: 2, max: 5_000 }), extra: fc.nat({ max: 4_998 }), wide: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.nat({ max: 60_000 }), weight: 1 }) })
      .map(({ maxFailures, delay, extra, wide }): RestartStrategy => {
        const lo = Math.max(1, (maxFailures - 1) * delay), hi = maxFailures * delay - 1;
        return { kind: "failure-rate", maxFailures, delay, interval: wide === undefined ? lo + (extra % (hi - lo + 1)) : maxFailures * delay + wide };
      }),
  );
  const all: { [K in SwarmDimension]: fc.Arbitrary<SwarmConfig[K]> } = {
    backend: fc.constantFrom<Backend>("memory", "file", "kv"),
    incremental: fc.constant(true),
    checkpointIntervalMs: fc.integer({ min: 2_000, max: 30_000 }),
    maxConcurrent: fc.integer({ min: 2, max: 3 }),
    tolerableFailures: fc.integer({ min: 1, max: 3 }),
    retained: fc.integer({ min: 2, max: 3 }),
    sourceParallelism: fc.integer({ min: 1, max: 4 }),
    windowParallelism: fc.integer({ min: 1, max: 4 }),
    batchSize: fc.constantFrom(1, 7, 16, 256),
    restart,
    unaligned: fc.record({ alignedTimeoutMs: fc.constantFrom(0, 0, 50, 500, 5_000) }),
    // Half the stops come under load that outlasts a periodic interval or two: a savepoint still
    // pending at the next trigger is where stop-with-savepoint and periodic checkpoints meet.
    // Half the rescales change the source's parallelism too: its split offsets are operator (list) state, whose redistribution no other draw exercises.
    rescale: fc.record({ atMs: fc.integer({ min: 10_000, max: Math.max(10_001, spec.feed.kind === "generated" ? spec.feed.durationMs - 10_000 : 60_000) }), parallelism: fc.integer({ min: 1, max: 4 }), loadMs: fc.option(fc.integer({ min: 1_000, max: 40_000 }), { nil: undefined, freq: 2 }), sourceParallelism: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 2 }) })
      .map((r) => ({ atMs: r.atMs, parallelism: r.parallelism, ...(r.loadMs === undefined ? {} : { loadMs: r.loadMs }), ...(r.sourceParallelism === undefined ? {} : { sourceParallelism: r.sourceParallelism }) })),
    savepoint: fc.record({ atMs: fc.integer({ min: 5_000, max: Math.max(5_001, spec.feed.kind === "generated" ? spec.feed.durationMs - 5_000 : 60_000) }) }),
    compactAfter: fc.integer({ min: 1, max: 4 }),
    mode: fc.constant<Mode>("at-least-once"),
    symbols: fc.record({ count: fc.integer({ min: 1, max: 10 }), first: fc.integer({ min: 0, max: SYMBOL_POOL.length - 1 }) }),
    // Drawn as a multiple of the run's checkpoint interval (made ms below): storage slower than the
    // interval is what makes checkpoints overlap, whatever interval the run drew.
    asyncMs: fc.constantFrom(0.5, 2, 5),
  };
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  // Only a generated feed can change its symbols (a fixture is what it is).
  if (spec.feed.kind !== "generated") dims.delete("symbols");
  for (const d of SWARM_DIMENSIONS) if (dims.has(d)) rec[d] = d === "mode" ? rare(all[d]) : opt(all[d] as fc.Arbitrary<unknown>);
  return fc.record(rec).map((r) => {
    const c: Record<string, unknown> = {};
    for (const d of SWARM_DIMENSIONS) if (r[d] !== undefined) c[d] = r[d];
    if (typeof r.asyncMs === "number") c.asyncMs = Math.round(r.asyncMs * ((r.checkpointIntervalMs as number | undefined) ?? spec.job.checkpointIntervalMs));
    return c as SwarmConfig;
  });
}

/** The scenario's generated feed with the configuration's symbols, at the same total trade rate. */
export function applyFeed(feed: FeedSpec, c: SwarmConfig): FeedSpec {
  if (!c.symbols || feed.kind !== "generated") return feed;
  const { count, first } = c.symbols;
  const symbols = Array.from({ length: count }, (_, i) => SYMBOL_POOL[(first + i) % SYMBOL_POOL.length]);
  return { ...feed, symbols, ratePerSec: Math.max(1, Math.round((feed.ratePerSec * feed.symbols.length) / count)) };
}

/** The scenario's job with the configuration applied. */
export function applyConfig(job: JobSpec, c: SwarmConfig): JobSpec {
  const { rescale, unaligned, symbols: _feed, ...rest } = c;
  const out: JobSpec = { ...job };
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  if (rescale) out.rescale = rescale;
  // Flink allows unaligned checkpoints under EXACTLY_ONCE only: elsewhere the draw keeps the job aligned.
  if (unaligned && out.mode === "exactly-once") Object.assign(out, { unaligned: true, alignedTimeoutMs: unaligned.alignedTimeoutMs });
  return out;
}

function describeRestart(r: RestartStrategy): string {
  switch (r.kind) {
    case "fixed-delay": return `fixed-delay:${r.attempts}:${r.delay}`;
    case "exponential-delay": return `exponential-delay:${r.initial}:${r.max}:${r.multiplier}:${r.resetThreshold}:${r.jitter}`;
    case "failure-rate": return `failure-rate:${r.maxFailures}:${r.interval}:${r.delay}`;
    case "none": return "none";
  }
}

/** `backend=kv,incremental=true,rescale=120000:3` ("" = the scenario's own job). */
export function describeConfig(c: SwarmConfig): string {
  return SWARM_DIMENSIONS.filter((d) => c[d] !== undefined).map((d) => {
    const v = c[d]!;
    if (d === "restart") return `restart=${describeRestart(v as RestartStrategy)}`;
    if (d === "rescale") {
      const r = v as NonNullable<SwarmConfig["rescale"]>;
      return `rescale=${r.atMs}:${r.parallelism}${r.loadMs === undefined ? "" : `:${r.loadMs}`}${r.sourceParallelism === undefined ? "" : `@${r.sourceParallelism}`}`;
    }
    if (d === "unaligned") return `unaligned=${(v as { alignedTimeoutMs: number }).alignedTimeoutMs}`;
    if (d === "savepoint") return `savepoint=${(v as { atMs: number }).atMs}`;
    if (d === "symbols") return `symbols=${(v as { count: number }).count}:${(v as { first: number }).first}`;
    return `${d}=${String(v)}`;
  }).join(",");
}

/** A `--config` value or scenario-file field that does not parse: a user error naming it. */
export class ConfigSyntaxError extends Error {
  override readonly name = "ConfigSyntaxError";
  readonly exitCode = 2;
}

const BOUNDS: Record<string, [number, number]> = {
  checkpointIntervalMs: [1, 86_400_000], maxConcurrent: [1, 16], tolerableFailures: [0, 1_000], retained: [1, 100],
  sourceParallelism: [1, 64], windowParallelism: [1, 64], batchSize: [1, 100_000], compactAfter: [1, 1_000_000], asyncMs: [1, 3_600_000],
};

export function parseConfig(text: string): SwarmConfig {
  const c: Record<string, unknown> = {};
  if (text.trim() === "") return {};
  for (const part of text.split(",")) {
    const [k, v] = part.trim().split("=");
    const bad = (why: string) => new ConfigSyntaxError(`--config ${JSON.stringify(part)}: ${why}`);
    if (!(SWARM_DIMENSIONS as readonly string[]).includes(k)) throw new ConfigSyntaxError(`--config: unknown dimension ${JSON.stringify(k)}; known: ${SWARM_DIMENSIONS.join(", ")}`);
    if (v === undefined) throw bad("expected <dimension>=<value>");
    if (k === "mode") {
      if (v !== "exactly-once" && v !== "at-least-once") throw bad(`unknown mode ${JSON.stringify(v)}; known: exactly-once, at-least-once`);
      c.mode = v;
    } else if (k === "backend") {
      if (!["memory", "file", "kv"].includes(v)) throw bad(`unknown backend ${JSON.stringify(v)}; known: memory, file, kv`);
      c.backend = v;
    } else if (k === "incremental") {
      if (v !== "true" && v !== "false") throw bad("expected true or false");
      c.incremental = v === "true";
    } else if (k === "restart") {
      const [kind, ...n] = v.split(":");
      const nums = n.map(Number);
      if (nums.some((x) => !Number.isFinite(x))) throw bad("restart parameters must be numbers");
      if (kind === "fixed-delay" && nums.length === 2) c.restart = { kind, attempts: nums[0], delay: nums[1] };
      else if (kind === "exponential-delay" && nums.length === 5) c.restart = { kind, initial: nums[0], max: nums[1], multiplier: nums[2], resetThreshold: nums[3], jitter: nums[4] };
      else if (kind === "failure-rate" && nums.length === 3) c.restart = { kind, maxFailures: nums[0], interval: nums[1], delay: nums[2] };
      else if (kind === "none" && nums.length === 0) c.restart = { kind };
      else throw bad("expected fixed-delay:<attempts>:<delay>, exponential-delay:<initial>:<max>:<multiplier>:<reset>:<jitter>, failure-rate:<max>:<interval>:<delay> or none");
    } else if (k === "unaligned") {
      if (!/^\d+$/.test(v)) throw bad("expected unaligned=<aligned-checkpoint timeout in ms>");
      c.unaligned = { alignedTimeoutMs: Number(v) };
    } else if (k === "savepoint") {
      if (!/^\d+$/.test(v)) throw bad("expected savepoint=<ms into the feed>");
      c.savepoint = { atMs: Number(v) };
    } else if (k === "symbols") {
      const m = /^(\d+):(\d+)$/.exec(v);
      if (!m || Number(m[1]) < 1 || Number(m[1]) > SYMBOL_POOL.length || Number(m[2]) >= SYMBOL_POOL.length) throw bad(`expected symbols=<count 1..${SYMBOL_POOL.length}>:<first 0..${SYMBOL_POOL.length - 1}>`);
      c.symbols = { count: Number(m[1]), first: Number(m[2]) };
    } else if (k === "rescale") {
      const m = /^(\d+):(\d+)(?::(\d+))?(?:@(\d+))?$/.exec(v);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 64 || (m[4] !== undefined && (Number(m[4]) < 1 || Number(m[4]) > 64))) throw bad("expected rescale=<atMs>:<window parallelism 1..64>[:<loadMs>][@<source parallelism 1..64>]");
      c.rescale = { atMs: Number(m[1]), parallelism: Number(m[2]), ...(m[3] !== undefined ? { loadMs: Number(m[3]) } : {}), ...(m[4] !== undefined ? { sourceParallelism: Number(m[4]) } : {}) };
    } else {
      const n = Number(v);
      const [lo, hi] = BOUNDS[k];
      if (!Number.isInteger(n) || n < lo || n > hi) throw bad(`expected a whole number in ${lo}..${hi}`);
      c[k] = n;
    }
  }
  return c as SwarmConfig;
}

/** Labels for counting what was drawn: each dimension drawn, and its value where the values are few ("backend=kv", "restart=exponential-delay"). */
export function configLabels(c: SwarmConfig): string[] {
  return SWARM_DIMENSIONS.filter((d) => c[d] !== undefined).flatMap((d) => {
    const v = c[d]!;
    if (d === "restart") return [d, `restart=${(v as RestartStrategy).kind}`];
    if (d === "rescale") {
      const r = v as NonNullable<SwarmConfig["rescale"]>;
      return [d, ...(r.loadMs === undefined ? [] : ["rescale=under-load"]), ...(r.sourceParallelism === undefined ? [] : ["rescale=sources"])];
    }
    if (d === "symbols") return [d, `symbols=${(v as { count: number }).count}`];
    if (d === "incremental" || d === "checkpointIntervalMs" || d === "asyncMs" || d === "savepoint") return [d];
    if (d === "unaligned") return [d, `unaligned=${(v as { alignedTimeoutMs: number }).alignedTimeoutMs}`];
    return [d, `${d}=${String(v)}`];
  });
}
