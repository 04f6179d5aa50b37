import { StreamExecutionEnvironment, type JobExecutionResult } from "../engine/api/environment.ts";
import { CheckpointingMode } from "../engine/api/checkpoint-config.ts";
import type { Logger } from "../engine/api/logger.ts";
import { Duration } from "../engine/api/time.ts";
import { WatermarkStrategy } from "../engine/api/watermark-strategy.ts";
import { TumblingEventTimeWindows } from "../engine/api/windows.ts";
import { BinanceWebSocketSource } from "../engine/connectors/binance/source.ts";
import type { Trade } from "../engine/connectors/binance/trade.ts";
import { PrintSink } from "../engine/connectors/sinks/print-sink.ts";
import { readCommittedLines, TransactionalFileSink } from "../engine/connectors/sinks/transactional-file-sink.ts";
import type { SumAcc } from "../engine/runtime/window-operator.ts";
import { FsStateBackend, HashMapStateBackend } from "../engine/state/backends.ts";
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage } from "../engine/state/checkpoint-storage.ts";
import { EmbeddedKVStateBackend } from "../engine/state/kv/kv-state-backend.ts";
import type { Fs } from "../engine/state/fs.ts";
import { SimulatedTradeFeed, tapeStartTime } from "../sim/binance/sim-feed.ts";
import type { Tape } from "../sim/binance/tape.ts";
import { MemFs } from "../sim/faults/mem-fs.ts";
import { describeCrash, SimFs } from "../sim/faults/sim-fs.ts";
import { Rng } from "../engine/kernel/rng.ts";
import { Nemesis, type FiredFault } from "../sim/faults/nemesis.ts";
import type { Fault } from "../sim/faults/fault-plan.ts";
import { checkAtLeastOnce, checkConservation, checkFinished, checkKills, checkOnce, checkOracle, checkRestores, compose, PROPERTIES, type CheckResult } from "./checkers.ts";
import { ProcessKilled, type FaultInjector, type FaultSite } from "../engine/checkpoint/faults.ts";
import { OutputFormatError, parseCommittedLine, type CommittedRow } from "./committed.ts";
import type { WindowRow } from "./oracle.ts";
import { DEFAULT_SCENARIO, type ScenarioSpec } from "./spec.ts";
import { oracleOf, tapeFor, totalsOf } from "./tape-cache.ts";
import { mergeResults, restoresOfStages, type StageOptions } from "./run-stages.ts";

export { tapeFor };
import { registeredJob } from "./jobs/job-module.ts";
import { checkReference } from "./reference.ts";
import { ConsistentCutCheck } from "./consistent-cut.ts";
import { FailurePolicyCheck } from "./failure-policy.ts";
import { TriggerPolicyCheck } from "./trigger-policy.ts";
import { RestartPolicyCheck } from "./restart-policy.ts";
import { AlignmentCheck } from "./alignment-check.ts";
import { DiscardCheck } from "./discard-check.ts";
import { RetentionCheck } from "./retention.ts";
import { RunChecks } from "./process-checks.ts";
import type { TradeFeed } from "../engine/connectors/binance/feed.ts";
import type { RealtimeDriver } from "../engine/runtime/adapters/realtime-driver.ts";

/** Everything one run left behind: the single history every checker and report reads. */
export interface ScenarioRun {
  readonly spec: ScenarioSpec;
  readonly tape: Tape;
  readonly result: JobExecutionResult;
  readonly committed: CommittedRow[];
  readonly oracle: WindowRow[];
  readonly late: Map<string, { quantity: bigint; count: number }>;
  readonly fired: FiredFault[];
  readonly unfired: Fault[];
  readonly passages: Map<string, number>;
  readonly checks: CheckResult[];
  readonly valid: boolean | "unknown";
  readonly warnings: string[];
  readonly kills: KillRecord[];
  /** What the source's recovery did about exchange faults (duplicates dropped, gaps backfilled, reconnects). */
  readonly feedStats: Record<string, number>;
  /** The committed output as the sink wrote it, one JSON line per row. */
  readonly outputLines: readonly string[];
}

function diskFor(spec: ScenarioSpec): Fs {
  return spec.job.disk === "sim" ? new SimFs(new Rng(`${spec.seed}/disk`)) : new MemFs();
}

/**
 * The run's one fault plan: the spec's faults, then (older spec fields, kept so scenario files
 * still read) the disk faults of `job.diskFaults` and the toxics of `feedFaults`, appended so
 * the indices of `faults` stay what they were.
 */
export function planOf(spec: ScenarioSpec): Fault[] {
  return [
    ...spec.faults,
    ...(spec.job.diskFaults ?? []).map((disk): Fault => ({ kind: "disk", disk })),
    ...(spec.feedFaults?.toxics ?? []).map((toxic): Fault => ({ kind: "toxic", toxic })),
  ];
}

export interface RunOptions {
  /** Directory holding out/ and checkpoints/ (default /flinch on the simulated disk). */
  root?: string;
  /** Parent of the kv backend's working directories (default: the OS temp directory). */
  kvLocalDir?: string;
  /** Resume from the checkpoint storage instead of starting fresh (a new process after a kill). */
  resume?: boolean;
  /** Start from this checkpoint or savepoint directory (`.../chk-<n>`), as `flink run -s` does. */
  fromSavepoint?: string;
  /** Called when a kill fault fires, before the process dies; without it the kill is simulated. */
  onKill?: (site: FaultSite, latestCompleted: number | undefined, startedFrom: number | undefined, faultIndex: number) => void;
  /** Called on the disk after a simulated process kill, before the next process starts (tests corrupt files here). */
  betweenProcesses?: (fs: Fs) => void;
  keepTrace?: boolean;
  /**
   * Progress of a long run (bin/progress.ts): called every PROGRESS_BATCHES processed batches
   * with the virtual time reached. Read-only (the trace is the same with or without it), and a
   * counter per batch, never per record.
   */
  onProgress?: (virtualTime: number, batches: number) => void;
  /** This is a reference run (no faults): it is not itself checked against one. */
  reference?: boolean;
  /** Count passages per fault target too (`Nemesis.countTargets`): a chaos calibration. */
  countTargets?: readonly string[];
  /** Defaults to a fresh in-memory file system per run. */
  fs?: Fs;
  log?: Logger;
}

/** Batches (task.process passages, all tasks) between two progress callbacks. */
export const PROGRESS_BATCHES = 64;

/** The nemesis, seen by a progress counter: the engine passes task.process once per batch. */
function watched(inner: Nemesis, onProgress: (virtualTime: number, batches: number) => void): FaultInjector {
  let batches = 0;
  return {
    check(site) {
      if (site.point === "task.process" && ++batches % PROGRESS_BATCHES === 0) onProgress(site.time, batches);
      inner.check(site);
    },
    slowdown: (site) => inner.slowdown(site),
    clockOf: (task) => inner.clockOf(task),
  };
}

/** Where the job's output and checkpoints live on the run's disk (a real directory for --process runs). */
export const DEFAULT_ROOT = "/flinch";

/**
 * The interpreter: builds the seed job from the spec, runs it against the simulated world,
 * checks the history. A `kill` fault ends the "process": the disk keeps only what survives a
 * crash (SimFs drops unsynced writes), everything in memory is gone, and a new process resumes
 * from the checkpoint storage, with the faults that have not fired yet.
 */
export function runScenario(spec: ScenarioSpec, opts: RunOptions = {}): ScenarioRun {
  const fs = opts.fs ?? diskFor(spec);
  const root = opts.root ?? DEFAULT_ROOT;
  const kills: KillRecord[] = [];
  let faults = planOf(spec);
  const fired: FiredFault[] = [];
  // A rescale: stage "before" runs until the stop-with-savepoint; stage "after" starts from it at the new parallelism.
  let stage: "plain" | "before" | "after" = spec.job.rescale ? "before" : "plain";
  // The savepoint the stage's next process starts from, while no checkpoint has completed since
  // (undefined: resume from the job's checkpoints). Stage "after" starts from the rescale's savepoint;
  // a process of stage "before" killed once its stop's savepoint was complete (the sinks committed on
  // it) but before the job stopped is resumed from that savepoint, when it is the newest snapshot
  // (as an HA JobManager recovers), and the operator issues the stop again.
  let from: string | undefined;
  let earlier: JobExecutionResult | undefined;
  let afterKill: KillRecord | undefined;
  const checks = runChecksFor(spec);
  for (;;) {
    const rescale = spec.job.rescale;
    const atFrom = from !== undefined ? { fromSavepoint: from } : {};
    const staged: StageOptions = stage === "before" && rescale ? { savepointAt: rescale.atMs, ...atFrom }
      : stage === "after" && rescale ? { windowParallelism: rescale.parallelism, sourceParallelism: rescale.sourceParallelism, ...atFrom }
      : stage === "plain" && kills.length === 0 && opts.fromSavepoint !== undefined ? { fromSavepoint: opts.fromSavepoint } // --from: the first process only; after a kill the next resumes from the latest checkpoint
      : stage === "plain" && spec.job.savepoint ? { savepointAt: spec.job.savepoint.atMs, stop: false } // taken again by a process after a kill, if it has not passed it yet
      : {};
    // --from keeps the user's resume flag too: it also keeps the checkpoint directory from being cleared before --from is read.
    const fromUser = stage === "plain" && kills.length === 0 && opts.fromSavepoint !== undefined;
    const resume = fromUser ? (opts.resume ?? false) : staged.fromSavepoint === undefined && (kills.length > 0 || (opts.resume ?? false));
    const job = prepareScenario({ ...spec, faults, feedFaults: undefined, job: { ...spec.job, diskFaults: [] } }, { ...opts, fs }, undefined, resume, kills.length === 0 && earlier === undefined, staged, checks);
    try {
      const result = watchDisk(fs, job, () => job.env.executeSync(spec.name));
      // A job canceled at the liveness bound is "stopped": a restart may have been due after it.
      checks.endProcess({ failures: result.failures, restores: result.restores, end: result.status === "FAILED" ? "failed" : result.status === "FINISHED" ? "finished" : "stopped", holds: job.holds });
      // Only the process right after a kill tells what it resumed from (not the rescale's "after" stage).
      if (afterKill) afterKill.resumedFrom = result.startedFrom?.checkpointId ?? null;
      afterKill = undefined;
      // Only a job that stopped with its savepoint goes on from it: a failover between the savepoint and the stop cancels the
      // stop (as in Flink), the job runs on to its end, and starting the "after" stage too would commit the tail twice.
      if (stage === "before" && result.status === "FINISHED" && result.savepointPath !== undefined && result.stoppedWithSavepoint) {
        fired.push(...job.nemesis.fired);
        faults = job.nemesis.unfired();
        earlier = result;
        from = result.savepointPath;
        stage = "after";
        continue;
      }
      return job.finish(earlier ? mergeResults(earlier, result) : result, [...fired, ...job.nemesis.fired], kills, earlier ? [earlier, result] : undefined);
    } catch (e) {
      if (!(e instanceof ProcessKilled)) throw e;
      checks.endProcess({ failures: job.env.lastRunner?.stats.failures ?? [], restores: job.env.lastRunner?.stats.restores ?? [], end: "stopped" });
      // The "process" is gone; free what it held in this real one (lmdb environments, their directories).
      for (const t of job.env.lastRunner?.tasks ?? []) t.cancel();
      if (afterKill) afterKill.resumedFrom = job.startedFrom() ?? null;
      fired.push(...job.nemesis.fired);
      const lost = fs instanceof SimFs ? describeCrash(fs.crash()) : undefined;
      // What the next process must find: the newest snapshot completed here (a checkpoint, or the stop's savepoint), or else
      // the one this process itself started from (the checkpoint it resumed from, or the savepoint it started from).
      // A kill inside the coordinator's metadata write, or after that write failed part-way: the disk, not
      // the dead coordinator, says whether that checkpoint completed (its _metadata is the commit point),
      // and the next process finds it if so.
      const completed = max(job.lastCompleted(), job.committedOnDisk());
      const sp = stage === "before" ? job.env.lastRunner?.savepointId : undefined;
      if (sp !== undefined && (completed === undefined || sp > completed)) from = `${root}/savepoints/chk-${sp}`;
      else if (completed !== undefined) from = undefined;
      const fromId = from !== undefined ? Number(/chk-(\d+)$/.exec(from)?.[1]) : undefined;
      const latest = (sp !== undefined && (completed === undefined || sp > completed) ? sp : completed) ?? job.startedFrom() ?? fromId;
      afterKill = { site: `${e.site.point} in ${e.site.task}`, lastCompleted: latest, durable: job.storageDurable, resumedFrom: null, diskLoss: lost };
      kills.push(afterKill);
      faults = job.nemesis.unfired();
      opts.betweenProcesses?.(fs);
      if (kills.length > 50) throw new Error(`${spec.name}: more than 50 process kills`);
    }
  }
}

/** One simulated process death and what the next process found. */
export interface KillRecord {
  site: string;
  lastCompleted: number | undefined;
  durable: boolean;
  resumedFrom: number | null;
  diskLoss?: string;
}

/**
 * The same job and checks with the source on real sockets (`flinch serve` or the intercepted
 * production URLs): `feed` replaces the simulated one, and the kernel follows the wall clock.
 */
export async function runScenarioRealtime(spec: ScenarioSpec, feed: TradeFeed, driver: RealtimeDriver, opts: RunOptions = {}): Promise<ScenarioRun> {
  const job = prepareScenario({ ...spec, faults: planOf(spec), feedFaults: undefined }, opts, feed);
  return job.finish(await job.env.execute(spec.name, driver));
}

interface PreparedJob {
  env: StreamExecutionEnvironment;
  nemesis: Nemesis;
  storageDurable: boolean;
  /** The job's virtual time (its runner's clock; undefined before the job has a runner). */
  now(): number | undefined;
  /** Latest checkpoint completed in this process (for a kill: what a new process should find). */
  lastCompleted(): number | undefined;
  /** After a kill: the newest checkpoint whose metadata is on disk though the dead process had not completed it (a kill within its commit, or after its metadata write failed part-way). */
  committedOnDisk(): number | undefined;
  startedFrom(): number | undefined;
  /** Whether anything of checkpoint `id` is in the job's checkpoint storage: on disk, read directly (not through the engine's routing); in memory, the coordinator's. */
  holds(id: number): boolean;
  finish(result: JobExecutionResult, fired?: FiredFault[], kills?: KillRecord[], stages?: JobExecutionResult[]): ScenarioRun;
}

/**
 * Runs `run` with the disk's changing calls counted as the fault point `fs.write` (a kill may
 * fall between two of them), from the moment the job has a runner: what the harness reads or
 * writes around a process (its set-up, the checks, a test's tampering between processes) is not
 * the job's, and a fault there would have no task or coordinator to fail.
 */
function watchDisk<T>(fs: Fs, job: PreparedJob, run: () => T): T {
  if (!(fs instanceof SimFs)) return run();
  fs.onChange = (path) => {
    const now = job.now();
    if (now !== undefined) job.nemesis.check({ point: "fs.write", task: path, time: now });
  };
  try {
    return run();
  } finally {
    fs.onChange = undefined;
  }
}

/**
 * The checks that watch every process and stage of a scenario run through the coordinator's
 * reports: each completed checkpoint against the tape (consistent-cut.ts, the seed job only; a
 * checkpoint that does not read back is no finding when the plan flips a bit on the disk), the
 * failure policy, the trigger rules, the restart strategy and retention.
 */
function runChecksFor(spec: ScenarioSpec): RunChecks {
  const j = spec.job;
  const flips = planOf(spec).some((f) => f.kind === "disk" && f.disk.kind === "bitflip");
  const cuts = j.module === undefined ? [new ConsistentCutCheck(tapeFor(spec.feed), { windowMs: j.windowMs, outOfOrdernessMs: j.outOfOrdernessMs, atLeastOnce: j.mode === "at-least-once", tolerated: () => flips })] : [];
  return new RunChecks([
    ...cuts,
    new FailurePolicyCheck(j.tolerableFailures),
    new TriggerPolicyCheck({ intervalMs: j.checkpointIntervalMs, maxConcurrent: j.maxConcurrent, minPauseMs: j.minPauseMs, timeoutMs: j.timeoutMs }),
    new RestartPolicyCheck(j.restart),
    new RetentionCheck(j.retained, j.incremental ?? false),
    new AlignmentCheck(),
    new DiscardCheck(),
  ]);
}

/** `runChecks`: the run's checks (runChecksFor), told of this process's checkpoints; their results are added to the run's. */
function prepareScenario(spec: ScenarioSpec, opts: RunOptions, realFeed?: TradeFeed, resume = false, armDisk = true, stage: StageOptions = {}, runChecks?: RunChecks): PreparedJob {
  const tape = tapeFor(spec.feed);
  const fs = opts.fs ?? new MemFs();
  const root = opts.root ?? DEFAULT_ROOT;
  const OUT = `${root}/out`;
  const CHECKPOINTS = `${root}/checkpoints`;
  let envRef: StreamExecutionEnvironment | undefined;
  const latest = () => envRef?.lastRunner?.coordinator?.latestCompleted() ?? envRef?.lastRunner?.startedFrom;
  // `from=savepoint` faults count from the configured savepoint: a rescale's stop, else a savepoint that does not stop.
  // The simulated feed's clock starts at the tape's first trade (SimulatedTradeFeed.startTime), known before the feed is made.
  const start = tapeStartTime(tape);
  const savepointMs = spec.job.rescale?.atMs ?? spec.job.savepoint?.atMs;
  const savepointAt = realFeed || savepointMs === undefined ? undefined : start + savepointMs;
  const nemesis = new Nemesis(spec.faults, opts.onKill ? (site, i) => opts.onKill!(site, latest(), envRef?.lastRunner?.startedFrom, i) : undefined, savepointAt);
  if (opts.countTargets) nemesis.countTargets(opts.countTargets);
  if (armDisk) nemesis.armDisk(fs);
  else nemesis.attachDisk(fs);
  const feedPlan = nemesis.feedPlan();
  const simFeed = new SimulatedTradeFeed(tape, feedPlan ? { plan: feedPlan } : {});
  const loadMs = spec.job.rescale?.loadMs;
  if (stage.savepointAt !== undefined && stage.stop !== false && loadMs) nemesis.load("checkpoint.alignment", start + stage.savepointAt, loadMs, 2 * spec.job.windowParallelism);
  const warnings: string[] = [];
  const log: Logger = opts.log ?? { warn: (m) => warnings.push(m), info: () => {} };
  const j = spec.job;
  const env = StreamExecutionEnvironment.getExecutionEnvironment({
    seed: spec.seed,
    log,
    keepTrace: opts.keepTrace,
    world: { feed: realFeed ?? simFeed, fs, faults: opts.onProgress ? watched(nemesis, opts.onProgress) : nemesis, startTime: realFeed ? undefined : start },
    execution: { batchSize: j.batchSize, ...(j.asyncMs !== undefined ? { asyncMin: 1, asyncMax: j.asyncMs } : {}) },
    jobId: "job",
    resume,
    ...(realFeed ? {} : { stopAt: simFeed.endTime() + LIVENESS_MARGIN_MS, maxRestarts: RESTART_BOUND }),
    ...(stage.savepointAt !== undefined ? { savepoint: { at: start + stage.savepointAt, dir: `${root}/savepoints`, stop: stage.stop ?? true } } : {}),
    ...(stage.fromSavepoint !== undefined ? { fromSavepoint: stage.fromSavepoint } : {}),
    ...(runChecks ? { checkpointObserver: runChecks.startProcess() } : {}),
  });
  envRef = env;
  env.enableCheckpointing(j.checkpointIntervalMs, j.mode === "exactly-once" ? CheckpointingMode.EXACTLY_ONCE : CheckpointingMode.AT_LEAST_ONCE);
  const cp = env.getCheckpointConfig();
  cp.setMinPauseBetweenCheckpoints(j.minPauseMs);
  cp.setCheckpointTimeout(j.timeoutMs);
  cp.setMaxConcurrentCheckpoints(j.maxConcurrent);
  cp.setTolerableCheckpointFailureNumber(j.tolerableFailures);
  cp.setNumRetainedCheckpoints(j.retained);
  cp.incremental = j.incremental ?? false;
  cp.enableUnalignedCheckpoints(j.unaligned ?? false);
  cp.setAlignedCheckpointTimeout(j.alignedTimeoutMs ?? 0);
  if (j.backend === "file") env.setStateBackend(new FsStateBackend(`file://${CHECKPOINTS}`));
  else if (j.backend === "kv") {
    // A real-disk run keeps the disposable working directories under its own root, so a killed
    // process's leftovers go with it (Flink clears its local directories the same way).
    env.setStateBackend(new EmbeddedKVStateBackend(opts.kvLocalDir ? { localDir: opts.kvLocalDir } : {}));
    cp.setCheckpointStorage(new FileSystemCheckpointStorage(`file://${CHECKPOINTS}`));
  } else {
    env.setStateBackend(new HashMapStateBackend());
    cp.setCheckpointStorage(new JobManagerCheckpointStorage());
  }
  env.setRestartStrategy(j.restart);

  const printed: string[] = [];
  const sink = j.sink === "transactional" ? new TransactionalFileSink<unknown>(`file://${OUT}`, j.compactAfter !== undefined ? { compactAfter: j.compactAfter } : {}) : new PrintSink<unknown>(undefined, (l) => printed.push(l));
  const trades = env
    .fromSource(new BinanceWebSocketSource(...tape.symbols), WatermarkStrategy.forBoundedOutOfOrderness<Trade>(Duration.ofMillis(j.outOfOrdernessMs)), "Binance Trade Source")
    .setParallelism(stage.sourceParallelism ?? j.sourceParallelism);
  if (j.module !== undefined) {
    env.setParallelism(stage.windowParallelism ?? j.windowParallelism);
    registeredJob(j.module)(env, trades, sink);
  } else trades
    .keyBy((t) => t.symbol)
    .window(TumblingEventTimeWindows.of(j.windowMs))
    .sum("quantity")
    .setParallelism(stage.windowParallelism ?? j.windowParallelism)
    .sinkTo(sink)
    .setParallelism(stage.windowParallelism ?? j.windowParallelism);

  // `stages`: a rescaled run's two jobs, each on its own clock: restores are checked per stage.
  const finish = (result: JobExecutionResult, fired: FiredFault[] = nemesis.fired, kills: KillRecord[] = [], stages?: JobExecutionResult[]): ScenarioRun => {
    nemesis.heal();
    const lines = j.sink === "transactional" ? readCommittedLines(fs, `file://${OUT}`) : printed;
    const late = lateTotals(result);
    const custom = j.module !== undefined;
    // The job's own output: a line that is not a window row is a violation (torn output), not an input error.
    const corrupt: string[] = [];
    const committed = custom ? [] : lines.flatMap((l, i) => {
      try {
        return [parseCommittedLine(l, j.sink === "transactional" ? OUT : "<print>", i + 1)];
      } catch (e) {
        if (!(e instanceof OutputFormatError)) throw e;
        corrupt.push(e.message);
        return [];
      }
    });
    const oracle = custom ? [] : oracleOf(tape, j.windowMs);
    // AT_LEAST_ONCE may count a replayed record twice, but only after something was replayed.
    const replayed = result.restores.length > 0 || kills.length > 0;
    const exact = (spec.guarantee ?? j.mode) === "exactly-once" || !replayed;
    // Without a drawn savepoint, the run's savepoints are a rescale's stops: a failover's restore points.
    const stopSavepointsOnly = j.savepoint === undefined || j.rescale !== undefined;
    const modelled = runChecks?.results() ?? [];
    // The job gave up where its restart strategy says to (the restart check holds it to that): its
    // output stops there, exact but not whole, and the conservation of the tape's totals cannot hold.
    const gaveUp = !custom && result.status === "FAILED" && /^Recovery is suppressed by /.test(result.failureReason ?? "") &&
      modelled.some((c) => c.property === PROPERTIES.restartPolicy && c.valid === true);
    const checks = [
      ...(custom ? (opts.reference ? [] : [checkReference(lines, referenceLines(spec))]) : exact ? [checkOracle(committed, oracle, corrupt, gaveUp), checkOnce(committed)] : [checkAtLeastOnce(committed, oracle, corrupt, gaveUp)]),
      stages ? restoresOfStages(stages) : checkRestores(result, stopSavepointsOnly),
      ...(custom || !exact || gaveUp ? [] : [checkConservation(committed, late, totalsOf(tape))]),
      checkFinished(result, realFeed ? undefined : LIVENESS_MARGIN_MS, RESTART_BOUND, gaveUp),
      ...(kills.length ? [checkKills(kills)] : []),
      ...modelled,
    ];
    return {
      spec, tape, result, committed, oracle, late,
      fired, unfired: nemesis.unfired(), passages: new Map(nemesis.passages),
      checks, valid: compose(checks), warnings, kills, feedStats: { ...simFeed.stats }, outputLines: lines,
    };
  };
  const durable = j.backend !== "memory";
  // The job's checkpoint directory read directly, not through the engine's routing of ids to storages.
  const onDisk = () => new FileSystemCheckpointStorage(`file://${CHECKPOINTS}/job`, fs);
  return {
    env, nemesis, finish, storageDurable: durable,
    now: () => env.lastRunner?.kernel.now(),
    committedOnDisk: () => {
      const c = env.lastRunner?.coordinator;
      if (!c || !durable) return undefined;
      return onDisk().completedIds().find((id) => c.commitInDoubt(id));
    },
    lastCompleted: () => env.lastRunner?.coordinator?.latestCompleted(),
    holds: durable
      ? (id) => onDisk().inspector().holds(id)
      : (id) => env.lastRunner?.coordinator?.storageFor(id).inspector().holds(id) ?? false,
    startedFrom: () => env.lastRunner?.startedFrom,
  };
}

/**
 * Liveness bound of a simulated run: virtual time it may take after the last trade of the tape.
 * Generous beside what any drawn fault costs (slow spells of minutes, restart backoffs of
 * seconds, clock skews of up to 5 minutes), so only a job that can no longer finish meets it:
 * one that restarts forever (Flink's default restart strategy has no attempt limit, so a restore
 * that always fails loops, and every replay is fresh input to the idle guard). Without it such a
 * run never returns, and neither does the chaos command running it.
 */
export const LIVENESS_MARGIN_MS = 3_600_000;
/**
 * A run is also stopped at its 100th restart in one process (liveness): a job that fails at every
 * restart under a strategy that never gives up would otherwise restart every few ms until the
 * bound above, millions of times (a mutant of the sink's compaction hung `npm run teeth` so). A
 * correct run restarts about once per fault it draws (at most 8, an intermittent disk error up to
 * 4 times; 6,000 swarm runs on seeds 1 and 2 restarted at most 5 times). At 1,000 a looping run
 * took a second, and its shrink replayed it a dozen times: `ack-off-by-one` took 19.7 s to
 * report, 3.5 s at 100.
 */
export const RESTART_BOUND = 100;

const referenceCache = new Map<string, readonly string[]>();

/**
 * The reference run of a user's job: the same job on the same tape, with the scenario's
 * default configuration and no faults, on a disk that loses nothing. Cached per tape and job.
 */
export function referenceLines(spec: ScenarioSpec): readonly string[] {
  const key = JSON.stringify([spec.feed, spec.job.module, spec.job.mode, spec.job.outOfOrdernessMs]);
  let lines = referenceCache.get(key);
  if (!lines) {
    const job = { ...DEFAULT_SCENARIO.job, module: spec.job.module, mode: spec.job.mode, outOfOrdernessMs: spec.job.outOfOrdernessMs, disk: "mem" as const, backend: "memory" as const };
    const run = runScenario({ ...spec, name: `${spec.name}-reference`, seed: "reference", job, faults: [], feedFaults: undefined }, { reference: true });
    if (run.result.status !== "FINISHED") throw new Error(`the reference run of ${spec.job.module} did not finish: ${run.result.failureReason ?? run.result.status}`);
    lines = run.outputLines;
    if (referenceCache.size > 16) referenceCache.clear();
    referenceCache.set(key, lines);
  }
  return lines;
}

/** Late-data totals the window operators reported at end of input, per symbol. */
export function lateTotals(r: JobExecutionResult): Map<string, { quantity: bigint; count: number }> {
  const m = new Map<string, { quantity: bigint; count: number }>();
  for (const rep of r.reports) {
    if (rep.kind !== "late" || typeof rep.key !== "string") continue;
    const acc = rep.value as SumAcc;
    const cur = m.get(rep.key) ?? { quantity: 0n, count: 0 };
    m.set(rep.key, { quantity: cur.quantity + BigInt(acc.sum), count: cur.count + acc.count });
  }
  return m;
}

/** The larger of two optional ids. */
function max(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
