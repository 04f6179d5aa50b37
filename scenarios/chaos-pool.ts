import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { ChaosCampaign, summarize, type ChaosFailure, type ChaosOptions, type ChaosResult, type RunRecord } from "./chaos.ts";
import { runCase } from "./outcome.ts";
import { makeScratchDir } from "./scratch-dir.ts";
import { bundledWorker } from "./worker-bundle.ts";

export type ToWorker = { kind: "calibrated"; passages: [string, number][] } | { kind: "run"; index: number } | { kind: "stop" };
export type FromWorker =
  | { kind: "ready" }
  | { kind: "record"; record: RunRecord; failures: ChaosFailure[] }
  | { kind: "error"; message: string; exitCode?: number };

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

/** The run indices of a campaign (or of this shard of it). */
export function campaignIndices(o: Pick<ChaosOptions, "runs" | "run">, shard?: { i: number; n: number }): Iterable<number> {
  if (o.run !== undefined) return [o.run];
  return {
    *[Symbol.iterator]() {
      for (let i = shard ? shard.i - 1 : 0; i < o.runs; i += shard ? shard.n : 1) yield i;
    },
  };
}

/**
 * Runs a campaign on `workers` threads (VOPR's all-cores mode). Indices are handed out in
 * order as threads free up; after the first finding (unless stopOnFailure is false), a signal or
 * the deadline, no new run starts and the runs in flight finish. The summary is in run order,
 * so per-run results and the trace hash do not depend on the worker count or the shard split.
 */
export async function runChaosPool(o: ChaosOptions, p: PoolOptions): Promise<ChaosResult> {
  const it = campaignIndices(o, p.shard)[Symbol.iterator]();
  const records: RunRecord[] = [];
  const failures: ChaosFailure[] = [];
  let stopped = false;
  const shouldStop = () => stopped || p.stop?.reason !== undefined || (p.deadline !== undefined && Date.now() >= p.deadline); // real-time: the budget is wall time
  const next = (): number | undefined => {
    if (shouldStop()) return undefined;
    const n = it.next();
    return n.done ? undefined : n.value;
  };
  const take = (record: RunRecord, fs: readonly ChaosFailure[]) => {
    records.push(record);
    failures.push(...fs);
    if (record.outcome !== "passed" && o.stopOnFailure !== false) stopped = true;
    p.onProgress?.(records.length, failures.length);
  };

  // kv working directories in RAM unless the caller chose a place (scratch-dir.ts).
  const scratch = o.kvLocalDir === undefined ? makeScratchDir("flinch-chaos-") : undefined;
  try {
    // `workers` runners: this thread, already loaded and warm once it has calibrated, and
    // workers - 1 threads. The threads start loading their modules first (the slow part of their
    // start-up); meanwhile this thread calibrates once for all of them, then runs seeds too.
    const entry = p.workers > 1 ? await workerEntry(o.spec.job.module !== undefined) : undefined;
    const threads = entry ? Array.from({ length: p.workers - 1 }, () => new Worker(entry.url, { workerData: o, execArgv: entry.execArgv })) : [];
    try {
      const c = new ChaosCampaign(scratch ? { ...o, kvLocalDir: scratch } : o);
      const passages = c.passages();
      let ready = 0;
      const done = threads.length ? runOnThreads(threads, passages, next, take, () => ready++) : Promise.resolve();
      let failed = false;
      done.catch(() => (failed = true));
      let i: number | undefined;
      while (!failed && (i = next()) !== undefined) {
        const before = c.failures.length;
        take(c.step(i), c.failures.slice(before));
        await new Promise<void>((r) => setImmediate(r)); // let a signal, and the threads' messages, in
      }
      // Every index went to this thread before any other was ready (a short campaign): nothing for them to do.
      if (threads.length && ready === 0 && !failed) await Promise.all(threads.map((w) => w.terminate()));
      else await done;
      return finish(o, records, failures, c);
    } finally {
      await Promise.all(threads.map((w) => w.terminate()));
    }
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Hands indices to the threads, once each has the calibration; resolves when all have stopped.
 * Each thread holds two indices, so it never waits for this thread (busy with a run of its own)
 * to hand it the next one.
 */
function runOnThreads(threads: Worker[], passages: [string, number][], next: () => number | undefined, take: (r: RunRecord, f: readonly ChaosFailure[]) => void, onReady: () => void): Promise<void> {
  return Promise.all(threads.map((w) => new Promise<void>((resolve, reject) => {
    w.postMessage({ kind: "calibrated", passages } satisfies ToWorker);
    const feed = () => {
      const i = next();
      if (i === undefined) w.postMessage({ kind: "stop" } satisfies ToWorker); // it cleans up and exits: "exit" resolves
      else w.postMessage({ kind: "run", index: i } satisfies ToWorker);
    };
    w.on("message", (m: FromWorker) => {
      if (m.kind === "error") return reject(new PoolError(m.message, m.exitCode));
      if (m.kind === "record") return void (take(m.record, m.failures), feed());
      onReady();
      feed();
      feed();
    });
    w.on("error", reject);
    w.on("exit", (code) => (code === 0 ? resolve() : reject(new PoolError(`chaos worker exited with code ${code}`))));
  }))).then(() => undefined);
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
