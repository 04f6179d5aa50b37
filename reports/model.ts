/**
 * The run model: everything a report shows, as plain JSON-ready data. Runs (replay, chaos,
 * npm start) build it; renderers (md, html, junit, json) read only this. Quantities are
 * decimal strings with exactly 8 fractional digits; times are ms (virtual time unless named
 * `wall…`).
 */
/**
 * Version 2: summary.seed became two labelled fields, userSeed (what the user gave, what the
 * replay line's --seed says) and engineSeed (the run's own seed, drawn from it in chaos);
 * Violation gained engineSeed; RunModel gained matrix (backends × modes side by side).
 */
export const RUN_MODEL_VERSION = 2;

export interface WindowResultRow {
  symbol: string;
  start: number;
  end: number;
  /** null when the window is missing on that side. */
  expectedQuantity: string | null;
  expectedCount: number | null;
  committedQuantity: string | null;
  committedCount: number | null;
  /** How many times the window was committed (more than once is a violation). */
  commits: number;
  status: "ok" | "missing" | "duplicate" | "wrong-sum" | "unexpected";
}

export interface CheckpointRow {
  id: number;
  status: "in_progress" | "completed" | "failed";
  final: boolean;
  savepoint: boolean;
  triggerTime: number;
  endTime?: number;
  endToEndMs?: number;
  alignmentMs: number;
  syncWallMs: number;
  asyncWallMs: number;
  acknowledged: number;
  total: number;
  /** null: the checkpoint storage kept the state in memory as objects (JobManager storage), so it has no byte size. */
  stateBytes: number | null;
  failureReason?: string;
  /** The failure reason's key (Flink's CheckpointFailureReason name), for programs. */
  failureReasonKey?: string;
  /** Unaligned: in-flight records persisted as channel state, summed over subtasks. */
  channelStateRecords?: number;
  /** Some subtask took its snapshot unaligned (at once, or after the aligned-checkpoint timeout). */
  unaligned?: boolean;
}

/** Something that happened at a virtual time, for the timeline. */
export type TimelineEvent =
  | { kind: "checkpoint"; time: number; endTime?: number; id: number; status: CheckpointRow["status"] }
  | { kind: "crash"; time: number; task: string; point?: string; error: string }
  | { kind: "restart"; time: number; attempt: number; checkpointId: number | null }
  | { kind: "watermark"; time: number; task: string; watermark: number };

export interface PropertyResult {
  /** e.g. "committed output equals the oracle" */
  name: string;
  valid: true | false | "unknown";
  /** Plain words: what was checked, what differed. */
  message: string;
}

export interface Violation {
  property: string;
  message: string;
  /** The seed the user gave: the one the replay line's --seed repeats. */
  seed: string;
  /** The engine seed of the run that failed (in chaos, drawn from `seed` by fast-check). */
  engineSeed?: string;
  path?: string;
  /** The exact command that replays this run. */
  replay: string;
  /** Fault list of the (shrunk) counterexample. */
  faults?: unknown[];
}

export interface RunSummary {
  /** Unique id; the report directory is reports/out/<runId>/. */
  runId: string;
  command: "run" | "replay" | "chaos" | "check";
  jobName: string;
  /** The seed the user gave (--seed, or the default the command used); null when the run took none. */
  userSeed: string | null;
  /** The engine seed of the run this report shows; in chaos it is drawn per run from userSeed. */
  engineSeed: string;
  status: "FINISHED" | "FAILED" | "CANCELED" | "CREATED" | "RUNNING" | "RESTARTING";
  failureReason?: string;
  traceHash: string;
  backend: string;
  mode: string;
  parallelism: number;
  checkpointInterval: number | null;
  checkpointStorage?: string;
  restartStrategy: string;
  inputs: string[];
  trades: number;
  startTime: number;
  endTime: number;
  restarts: number;
  /** Wall-clock figures: the only non-deterministic part of a model. */
  wallMs: number;
  tradesPerSec: number;
}

export interface LateRow {
  symbol: string;
  count: number;
  quantity: string;
}

/** One backend × mode combination of a run over several. */
export interface MatrixRow {
  scenario: string;
  backend: string;
  mode: string;
  /** Property runs (chaos) or job runs made with this combination. */
  runs: number;
  passed: number;
  /** Shrunk counterexamples found, each with its replay line. */
  findings: number;
  /** Its own report directory, when it has one. */
  reportDir?: string;
}

export interface RunModel {
  version: typeof RUN_MODEL_VERSION;
  summary: RunSummary;
  plan: string[];
  warnings: string[];
  properties: PropertyResult[];
  violations: Violation[];
  windows: WindowResultRow[];
  late: LateRow[];
  checkpoints: CheckpointRow[];
  timeline: TimelineEvent[];
  /** Counted input problems and repairs: quarantined lines, skipped messages, duplicates, gaps. */
  counters: Record<string, number>;
  /** A run over several backends or modes: one row per combination, shown side by side. */
  matrix?: MatrixRow[];
  /** For chaos runs: one row per property run. */
  runs?: { seed: string; path?: string; faults: unknown[]; valid: boolean; property?: string; traceHash: string }[];
}
