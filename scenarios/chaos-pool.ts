import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { ChaosCampaign, summarize, type ChaosFailure, type ChaosOptions, type ChaosResult, type RunRecord } from "./chaos.ts";
import { runCase } from "./outcome.ts";
import { makeScratchDir } from "./scratch-dir.ts";
import { closeIdleEnvs } from "../engine/state/kv/kv-env-pool.ts";
import { bundledWorker } from "./worker-bundle.ts";

export type ToWorker = { kind: "calibrated"; passages: [string, number][] };
export type FromWorker =
  | { kind: "record"; record: RunRecord; failures: ChaosFailure[] }
  | { kind: "error"; message: string; exitCode?: number };

/** What a worker thread is started with: the campaign, and the claims it shares with every runner. */
export interface WorkerData {
  options: ChaosOptions;
  claims: RunClaims;
  /** This thread's slot in the claims' start states. */
  slot: number;
}

/** A finding without its in-memory run (class instances do not cross threads); the pool re-runs the case if it needs one. */
export function portable(f: ChaosFailure): ChaosFailure {
  const { run: _run, ...rest } = f;
  return rest;
}

export interface PoolOptions {
  /** Threads to use; 1 runs in this thread. */
  workers: number;
  /** 1-based shard i of n: this process runs the indices with index % n === i - 1. */
  shard?: { i: number; n: number };
  /** Wall-clock end (ms since epoch): no new run starts after it. */
  deadline?: number;
  /** Set to end early (a signal): no new run starts. */
  stop?: { reason?: string };
  onProgress?: (done: number, findings: number) => void;
}

/** A worker's failure to start or run, with the user-error class preserved (a bad job module is exit 2). */
export class PoolError extends Error {
  override readonly name = "PoolError";
  constructor(message: string, readonly exitCode?: number) {
    super(message);
  }
}

/**
 * Run indices shared by every runner of a campaign through one SharedArrayBuffer: a runner claims
 * the next index with an atomic add when it starts a run, so no thread waits for another to hand
 * it work (handed out by this thread between its own runs, a worker idled whenever one of those
 * runs outlasted the two it held: 185 % of two cores busy instead of 192 %). Cross-thread state is
 * three kinds of word: the next position, the stop flag, and one start state per worker thread.
 */
export interface RunClaims {
  readonly words: Int32Array;
  readonly runs: number;
  /** One run only (`--run I`): position 0 is that index. */
  readonly run?: number;
  readonly shard?: { i: number; n: number };
  /** Wall-clock end (ms since epoch): no run starts after it. */
  readonly deadline?: number;
}

const NEXT = 0, STOP = 1, STATES = 2;
/** A worker thread's start state: not yet claiming (it may still be loading), claiming, or cancelled before its first claim. */
const WAITING = 0, CLAIMING = 1, CANCELLED = 2;

function runClaims(o: Pick<ChaosOptions, "runs" | "run">, threads: number, shard?: { i: number; n: number }, deadline?: number): RunClaims {
  return { words: new Int32Array(new SharedArrayBuffer(4 * (STATES + threads))), runs: o.runs, run: o.run, shard, deadline };
}

/** The index at claim position `k`, or undefined past the campaign's (or this shard's) last. */
function indexAt(c: Pick<RunClaims, "runs" | "run" | "shard">, k: number): number | undefined {
  if (c.run !== undefined) return k === 0 ? c.run : undefined;
  const i = c.shard ? c.shard.i - 1 + k * c.shard.n : k;
  return i < c.runs ? i : undefined;
}

/** How many runs a campaign (or this shard of it) has: the positions indexAt maps. */
export function claimCount(o: Pick<ChaosOptions, "runs" | "run">, shard?: { i: number; n: number }): number {
  return o.run !== undefined ? 1 : shard ? Math.ceil((o.runs - shard.i + 1) / shard.n) : o.runs;
}

/** No run starts after this: a finding (when stopping on one), the deadline, a signal or a failed thread. */
export function stopClaims(c: RunClaims): void {
  Atomics.store(c.words, STOP, 1);
}

/** The next index to run, or undefined when the campaign is over or stopping. */
export function claim(c: RunClaims): number | undefined {
  if (Atomics.load(c.words, STOP) !== 0) return undefined;
  if (c.deadline !== undefined && Date.now() >= c.deadline) return void stopClaims(c);
  const i = indexAt(c, Atomics.add(c.words, NEXT, 1));
  return i === undefined ? void stopClaims(c) : i;
}

/** A worker thread about to claim its first run: false if the pool cancelled it (the campaign ended before it was ready). */
export function startClaiming(c: RunClaims, slot: number): boolean {
  return Atomics.compareExchange(c.words, STATES + slot, WAITING, CLAIMING) === WAITING;
}

/** The pool, at the campaign's end: true if the thread never claimed and never will (so it can be terminated at once). */
function cancelUnstarted(c: RunClaims, slot: number): boolean {
  return Atomics.compareExchange(c.words, STATES + slot, WAITING, CANCELLED) === WAITING;
}

/**
 * Runs a campaign on `workers` threads (VOPR's all-cores mode). Each runner claims the next
 * index as it frees up (RunClaims); after the first finding (unless stopOnFailure is false), a signal or
 * the deadline, no new run starts and the runs in flight finish. The summary is in run order,
 * so per-run results and the trace hash do not depend on the worker count or the shard split.
 */
export async function runChaosPool(o: ChaosOptions, p: PoolOptions): Promise<ChaosResult> {
  // No thread without a run to claim (a short campaign on many cores).
  const threadCount = Math.max(0, Math.min(p.workers, claimCount(o, p.shard)) - 1);
  const claims = runClaims(o, threadCount, p.shard, p.deadline);
  const records: RunRecord[] = [];
  const failures: ChaosFailure[] = [];
  const stopsOnFinding = o.stopOnFailure !== false;
  const take = (record: RunRecord, fs: readonly ChaosFailure[]) => {
    records.push(record);
    failures.push(...fs);
    if (record.outcome !== "passed" && stopsOnFinding) stopClaims(claims);
    p.onProgress?.(records.length, failures.length);
  };
  // A signal is seen between this thread's runs; the deadline by every runner as it claims.
  const next = (): number | undefined => (p.stop?.reason !== undefined ? void stopClaims(claims) : claim(claims));

  // kv working directories in RAM unless the caller chose a place (scratch-dir.ts).
  const scratch = o.kvLocalDir === undefined ? makeScratchDir("flinch-chaos-") : undefined;
  try {
    // `workers` runners: this thread, already loaded and warm once it has calibrated, and
    // workers - 1 threads. The threads start loading their modules first (the slow part of their
    // start-up); meanwhile this thread calibrates once for all of them, then runs seeds too.
    const entry = threadCount > 0 ? await workerEntry(o.spec.job.module !== undefined) : undefined;
    const options = scratch ? { ...o, kvLocalDir: scratch } : o;
    const threads = entry ? Array.from({ length: threadCount }, (_, slot) => new Worker(entry.url, { workerData: { options, claims, slot } satisfies WorkerData, execArgv: entry.execArgv })) : [];
    try {
      const c = new ChaosCampaign(options);
      const passages = c.passages();
      const exits = threads.map((w) => runOnThread(w, passages, take));
      let failed = false;
      for (const e of exits) e.catch(() => (failed = true, stopClaims(claims)));
      let i: number | undefined;
      while (!failed && (i = next()) !== undefined) {
        const before = c.failures.length;
        take(c.step(i), c.failures.slice(before));
        await new Promise<void>((r) => setImmediate(r)); // let a signal, and the threads' messages, in
      }
      // A thread still loading when the campaign ended (a short one) has nothing to do.
      threads.forEach((w, slot) => void (cancelUnstarted(claims, slot) && w.terminate()));
      await Promise.all(exits.map((e, slot) => (Atomics.load(claims.words, STATES + slot) === CANCELLED ? e.catch(() => undefined) : e)));
      return finish(o, records, failures, c);
    } finally {
      await Promise.all(threads.map((w) => w.terminate()));
    }
  } finally {
    closeIdleEnvs(); // this thread's kv environments kept for reuse live in the scratch directory
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Starts a thread's runs once it has the calibration; resolves when it has run out of claims and exited. */
function runOnThread(w: Worker, passages: [string, number][], take: (r: RunRecord, f: readonly ChaosFailure[]) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    w.postMessage({ kind: "calibrated", passages } satisfies ToWorker);
    w.on("message", (m: FromWorker) => (m.kind === "error" ? reject(new PoolError(m.message, m.exitCode)) : take(m.record, m.failures)));
    w.on("error", reject);
    w.on("exit", (code) => (code === 0 ? resolve() : reject(new PoolError(`chaos worker exited with code ${code}`))));
  });
}

/**
 * The summary. Stopping at the first finding: runs after it that were in flight on other threads
 * are not part of the result, so it is the one a single thread gives. Findings that crossed
 * threads came without their runs: the first is re-run here (deterministic) for its report.
 */
function finish(o: ChaosOptions, records: RunRecord[], failures: ChaosFailure[], c: ChaosCampaign): ChaosResult {
  const firstBad = Math.min(...records.filter((r) => r.outcome !== "passed").map((r) => r.index));
  if (o.stopOnFailure !== false && Number.isFinite(firstBad)) {
    records.splice(0, records.length, ...records.filter((r) => r.index <= firstBad));
    failures.splice(0, failures.length, ...failures.filter((f) => f.index <= firstBad));
  }
  failures.sort((a, b) => a.index - b.index);
  const withRun = failures.map((f, k) => (k === 0 && f.run === undefined ? { ...f, run: runCase(o.spec, { engineSeed: f.engineSeed, config: f.config, faults: f.faults }, { keepTrace: true }).run } : f));
  return summarize(records, withRun, c.sample);
}

/**
 * The worker entry next to this module, by the extension this module was loaded with: from dist/
 * the compiled chaos-worker.js; from TypeScript sources (tsx, vitest) the worker bundled into one
 * plain module (worker-bundle.ts), or, when that is not possible or a user's job module (.ts) must
 * load in the thread, a bootstrap that registers tsx in the thread first.
 */
async function workerEntry(needsTsx: boolean): Promise<{ url: URL; execArgv: string[] }> {
  const ext = path.extname(new URL(import.meta.url).pathname) || ".js";
  if (ext !== ".ts") return { url: new URL(`./chaos-worker${ext}`, import.meta.url), execArgv: [] };
  const bundle = needsTsx ? undefined : await bundledWorker(new URL("./chaos-worker.ts", import.meta.url));
  return { url: bundle ?? new URL("./chaos-worker-tsx.mjs", import.meta.url), execArgv: [] };
}
