import type { RestartStrategy } from "../engine/api/restart-strategies.ts";
import type { FaultKind, FaultPlan } from "../sim/faults/fault-plan.ts";
import { SWARM_DIMENSIONS, type SwarmDimension } from "./swarm.ts";
import type { DiskFault } from "../sim/faults/sim-fs.ts";
import type { FeedFaultPlan } from "../sim/binance/toxics.ts";
import type { TradeBounds } from "../sim/binance/trade-domain.ts";

/**
 * A scenario is plain, serializable data (Jepsen's test map): the job, the feed, the faults
 * and the seed. Named scenarios are merged over DEFAULT_SCENARIO; the interpreter in
 * run-scenario.ts is the only code that acts on one.
 */
export type Backend = "memory" | "file" | "kv";
export type Mode = "exactly-once" | "at-least-once";
export type SinkKind = "transactional" | "print";

export interface JobSpec {
  backend: Backend;
  mode: Mode;
  sourceParallelism: number;
  windowParallelism: number;
  windowMs: number;
  outOfOrdernessMs: number;
  checkpointIntervalMs: number;
  minPauseMs: number;
  timeoutMs: number;
  maxConcurrent: number;
  tolerableFailures: number;
  retained: number;
  restart: RestartStrategy;
  sink: SinkKind;
  batchSize: number;
  /** The disk under file checkpoints and the sink: "sim" loses unsynced writes when a process is killed (SimFs), "mem" keeps everything. */
  disk: "mem" | "sim";
  /** Faults armed on the simulated disk from the start (ENOSPC, EIO, bit flips, fsync that lies). */
  diskFaults: DiskFault[];
  /** execution.checkpointing.incremental: keyed state written as deltas against the last completed checkpoint. */
  incremental: boolean;
  /**
   * Stop with a savepoint `atMs` into the feed, then start the job again from it at window
   * parallelism `parallelism` (a rescale). `loadMs`: the stop comes while the window tasks are
   * under load (backpressure, GC), so each of them takes that much longer to align the next two
   * barriers (the savepoint's, and a periodic one's already on its way): a savepoint that lasts
   * past the next periodic trigger, as stops under load do in production. `sourceParallelism`:
   * the source is rescaled too (its split offsets are union list state, redistributed by split).
   */
  rescale?: { atMs: number; parallelism: number; loadMs?: number; sourceParallelism?: number };
  /**
   * A savepoint (not a stop: `flink savepoint <job>`) `atMs` into the feed; the job runs on.
   * Ignored with `rescale`, whose stop is the run's savepoint.
   */
  savepoint?: { atMs: number };
  /** A user's job module (absolute path, loaded with loadJobModule) instead of the seed job; checked against its reference run. */
  module?: string;
  /** execution.checkpointing.unaligned (FLIP-76): barriers overtake in-flight records, persisted as channel state. */
  unaligned?: boolean;
  /** execution.checkpointing.aligned-checkpoint-timeout: start aligned, go unaligned after this long (0: at once). */
  alignedTimeoutMs?: number;
  /** The transactional sink compacts once this many of a writer's committed epochs are visible (absent: its default, 16). */
  compactAfter?: number;
  /**
   * A snapshot's asynchronous phase (the upload to checkpoint storage) takes 1 to this many ms of
   * virtual time (absent: 1 to 5 ms). Slow storage is what makes checkpoints overlap in production.
   */
  asyncMs?: number;
}

export type FeedSpec =
  | { kind: "generated"; symbols: string[]; durationMs: number; ratePerSec: number }
  | { kind: "fixture"; paths: string[]; lenient?: boolean; bounds?: TradeBounds };

export interface ScenarioSpec {
  name: string;
  description: string;
  seed: string;
  job: JobSpec;
  feed: FeedSpec;
  faults: FaultPlan;
  /** Fault kinds chaos draws for this scenario; default: crashes and process kills (a kill becomes a crash where checkpoints live in memory). */
  faultKinds?: FaultKind[];
  /** Configuration dimensions chaos draws for each run (swarm testing); default none: the job as written. */
  swarm?: SwarmDimension[];
  /** Exchange faults (toxics) on the simulated feed: duplicates, reorders, drops, disconnects, stalls, REST errors. */
  feedFaults?: FeedFaultPlan;
  /** Chaos draws a feed fault plan for every run (with the engine faults). */
  drawFeedFaults?: boolean;
  /**
   * The delivery guarantee the output is checked for; default the job's mode. A teeth scenario
   * checks an AT_LEAST_ONCE job for exactly-once, to show the harness sees the difference.
   */
  guarantee?: Mode;
}

export const DEFAULT_SCENARIO: ScenarioSpec = {
  name: "default",
  description: "The Binance-trades job with 1-minute tumbling sums, exactly-once, 2PC sink",
  seed: "1",
  job: {
    backend: "file",
    mode: "exactly-once",
    sourceParallelism: 2,
    windowParallelism: 2,
    windowMs: 60_000,
    outOfOrdernessMs: 2_000,
    checkpointIntervalMs: 10_000,
    minPauseMs: 500,
    timeoutMs: 600_000,
    maxConcurrent: 1,
    tolerableFailures: 0,
    retained: 1,
    restart: { kind: "fixed-delay", attempts: 10, delay: 1_000 },
    sink: "transactional",
    batchSize: 64,
    disk: "sim",
    diskFaults: [],
    incremental: false,
  },
  feed: { kind: "generated", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], durationMs: 4 * 60_000, ratePerSec: 20 },
  faults: [],
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends readonly unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export function scenario(over: DeepPartial<ScenarioSpec> & { name: string }): ScenarioSpec {
  return {
    ...DEFAULT_SCENARIO,
    ...over,
    job: { ...DEFAULT_SCENARIO.job, ...(over.job ?? {}) } as JobSpec,
    feed: (over.feed ?? DEFAULT_SCENARIO.feed) as FeedSpec,
    faults: (over.faults ?? DEFAULT_SCENARIO.faults) as FaultPlan,
  };
}

/**
 * The registry `flinch chaos --scenario NAME` reads. `expect` says what a correct engine
 * must show: "hold" (every property holds) or "violate" (the harness must catch a bug:
 * its teeth).
 */
export interface NamedScenario {
  readonly spec: ScenarioSpec;
  readonly expect: "hold" | "violate";
}

export const SCENARIOS: Record<string, NamedScenario> = {
  swarm: {
    expect: "hold",
    spec: scenario({
      name: "swarm",
      description: "Everything that must hold: each run draws its configuration (backend, full/incremental, interval, concurrency, tolerable failures, retention, aligned or unaligned, parallelism, batch size, restart strategy, a rescale through a savepoint, a savepoint that does not stop the job, sink compaction, the feed's symbols, slow checkpoint storage, and AT_LEAST_ONCE in one run in eight, checked for at-least-once output) and its faults (crashes, kills, slow steps, lost RPCs, disk faults a correct engine survives, exchange toxics, source clock skew)",
      faultKinds: ["crash", "kill", "slow", "lose", "disk", "toxic", "skew"],
      swarm: [...SWARM_DIMENSIONS],
      // Checkpoint bugs need checkpoints, windows and faults, not volume: a small tape makes runs cheap, so many more of them.
      feed: { kind: "generated", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], durationMs: 3 * 60_000, ratePerSec: 4 },
    }),
  },
  "seed-config": {
    expect: "hold",
    spec: scenario({
      name: "seed-config",
      description: "The job in the README, as written: 60 s checkpoints, EXACTLY_ONCE, min pause 500 ms, timeout 10 min, 1 concurrent, FsStateBackend, fixedDelayRestart(3, 10 s), TransactionalFileSink",
      job: { sourceParallelism: 1, windowParallelism: 1, checkpointIntervalMs: 60_000, restart: { kind: "fixed-delay", attempts: 3, delay: 10_000 } },
      feed: { kind: "generated", symbols: ["BTCUSDT"], durationMs: 10 * 60_000, ratePerSec: 30 },
    }),
  },
  "exactly-once": {
    expect: "hold",
    spec: scenario({ name: "exactly-once", description: "EXACTLY_ONCE, aligned barriers, 2PC sink, crashes at any checkpoint stage" }),
  },
  "exchange-faults": {
    expect: "hold",
    spec: scenario({
      name: "exchange-faults",
      description: "EXACTLY_ONCE with a misbehaving exchange as well: duplicated, reordered, dropped and malformed frames, disconnects, stalls, server restarts, REST 429/5xx/timeouts — and crashes",
      faultKinds: ["crash", "kill", "toxic"],
    }),
  },
  "at-least-once": {
    expect: "violate",
    spec: scenario({
      name: "at-least-once",
      description: "AT_LEAST_ONCE with 2+ source subtasks, checked for exactly-once: records that overtake a barrier are in the snapshot and replayed after a restore (counted twice)",
      job: { mode: "at-least-once" },
      guarantee: "exactly-once",
      faultKinds: ["crash"],
    }),
  },
  "print-sink": {
    expect: "violate",
    spec: scenario({
      name: "print-sink",
      description: "A non-transactional sink under EXACTLY_ONCE: output written before a crash is written again after the restore",
      job: { sink: "print" },
      faultKinds: ["crash"],
    }),
  },
};
