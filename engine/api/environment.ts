import { Kernel } from "../kernel/kernel.ts";
import { Trace } from "../kernel/trace.ts";
import { NodeFs } from "../state/fs.ts";
import { HashMapStateBackend, type StateBackend } from "../state/backends.ts";
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage, type CheckpointStorage } from "../state/checkpoint-storage.ts";
import { buildJobGraph, describeJobGraph } from "../runtime/job-graph.ts";
import { JobRunner, type JobStatus } from "../runtime/job-runner.ts";
import { DEFAULT_EXECUTION, type CheckpointObserver, type ExecutionOptions } from "../runtime/job-spec.ts";
import { CheckpointUnavailableError, startingPoint, type RestorePoint } from "../checkpoint/restore.ts";
import { DEFAULT_MAX_PARALLELISM } from "../state/keygroups.ts";
import { JobGraphValidationError, validateJob, type ValidationResult } from "../runtime/validate.ts";
import type { JobReport } from "../runtime/operator.ts";
import type { CheckpointStats, FailureEvent, RestoreEvent } from "../checkpoint/stats.ts";
import { CheckpointConfig, CheckpointingMode } from "./checkpoint-config.ts";
import { applyConfiguration, ConfigurationError, loadConfigYaml, type Configuration } from "./config.ts";
import { DataStream, SingleOutputStreamOperator, type StreamGraphBuilder } from "./datastream.ts";
import { consoleLogger, deprecated, type Logger } from "./logger.ts";
import { DEFAULT_WITH_CHECKPOINTING, describeRestartStrategy, RestartStrategies, type RestartStrategy } from "./restart-strategies.ts";
import type { Source } from "./source.ts";
import type { Sink } from "./sink.ts";
import { PrintSink } from "../connectors/sinks/print-sink.ts";
import type { NewTransformation, Transformation } from "./transformation.ts";
import { WatermarkStrategy } from "./watermark-strategy.ts";
import type { SourceFunction } from "./functions.ts";
import { FunctionSource } from "../runtime/function-source.ts";
import type { World } from "./world.ts";
import type { RealtimeDriver } from "../runtime/adapters/realtime-driver.ts";

export interface EnvironmentOptions {
  /** The run's seed: the same seed gives the same trace, line for line. */
  seed?: string | number;
  world?: Partial<World>;
  log?: Logger;
  /** Flink configuration keys (execution.checkpointing.interval, ...). */
  configuration?: Configuration;
  /** Keep every trace line in the result (for failing runs and debugging). */
  keepTrace?: boolean;
  execution?: Partial<ExecutionOptions>;
  /** Resume: restore from the newest valid checkpoint in the job's checkpoint storage instead of wiping it. */
  resume?: boolean;
  /** Start from this savepoint or checkpoint directory (`.../chk-7`). */
  fromSavepoint?: string;
  /** Stop the (unbounded) job when virtual time passes this. */
  stopAt?: number;
  /**
   * Stop the job (CANCELED) instead of restarting it once more after this many restarts. A job
   * that fails at every restart, under a strategy that never gives up (exponential delay, a
   * failure rate it never exceeds), restarts every few ms: `stopAt` alone would take millions.
   */
  maxRestarts?: number;
  /** Identifies the job's directory under the checkpoint storage; defaults to the job name and seed. */
  jobId?: string;
  /** Take a savepoint into `dir` (as `dir/chk-<id>`) at virtual time `at`; `stop` ends the job after it (stop-with-savepoint). */
  savepoint?: { at: number; dir: string; stop?: boolean };
  /** Told of each checkpoint's end (a completed one with a read-only view of its storage): for checkers; it changes nothing in the run. */
  checkpointObserver?: CheckpointObserver;
}

export interface JobExecutionResult {
  readonly jobName: string;
  readonly jobId: string;
  readonly seed: string;
  readonly status: JobStatus;
  readonly failureReason?: string;
  readonly traceHash: string;
  readonly traceLength: number;
  readonly trace: readonly string[];
  readonly startTime: number;
  readonly endTime: number;
  readonly attempts: number;
  readonly restarts: number;
  readonly checkpoints: readonly CheckpointStats[];
  readonly restores: readonly RestoreEvent[];
  readonly failures: readonly FailureEvent[];
  readonly reports: readonly JobReport[];
  readonly counters: Readonly<Record<string, number>>;
  readonly warnings: readonly string[];
  readonly plan: readonly string[];
  readonly checkpointStorage?: string;
  readonly restartStrategy: string;
  /** Where the savepoint went (`<dir>/chk-<id>`), when one was taken. */
  readonly savepointPath?: string;
  /** The job ended by stop-with-savepoint at `savepointPath` (false: a failover came between the savepoint and the stop, and the job ran on). */
  readonly stoppedWithSavepoint?: boolean;
  /** The checkpoint or savepoint the job started from (resume / fromSavepoint), with what was skipped to find it. */
  readonly startedFrom?: { checkpointId: number; skipped: { checkpointId: number; reason: string }[] };
}

/** Flink's StreamExecutionEnvironment: builds the plan, validates it, runs it on the kernel. */
export class StreamExecutionEnvironment implements StreamGraphBuilder {
  private readonly transformations: Transformation[] = [];
  private readonly checkpointConfig = new CheckpointConfig();
  private parallelism = 1;
  private maxParallelism = DEFAULT_MAX_PARALLELISM;
  private backend: StateBackend = new HashMapStateBackend();
  private restart?: RestartStrategy;
  readonly log: Logger;
  readonly seed: string;
  private readonly configWarnings: string[] = [];
  /** The runner of the last execution, for harnesses that must inspect a job a simulated kill ended. */
  lastRunner?: JobRunner;

  private constructor(readonly options: EnvironmentOptions) {
    this.seed = String(options.seed ?? 0);
    this.log = options.log ?? consoleLogger;
    if (options.configuration) this.configure(options.configuration);
  }

  static getExecutionEnvironment(options: EnvironmentOptions = {}): StreamExecutionEnvironment {
    return new StreamExecutionEnvironment(options);
  }

  /** An environment configured from a Flink config.yaml. */
  static fromConfigFile(path: string, options: EnvironmentOptions = {}): StreamExecutionEnvironment {
    const env = new StreamExecutionEnvironment(options);
    env.configure(loadConfigYaml(path), path);
    return env;
  }

  configure(conf: Configuration, origin = "configuration"): this {
    for (const k of applyConfiguration(this, conf)) {
      const w = `${origin}: unknown configuration key "${k}" ignored`;
      this.configWarnings.push(w);
      this.log.warn(w);
    }
    return this;
  }

  printSink<T>(prefix?: string): Sink<T> {
    return new PrintSink<T>(prefix);
  }

  add(t: NewTransformation): Transformation {
    const full = { ...t, id: this.transformations.length } as Transformation;
    this.transformations.push(full);
    return full;
  }

  setParallelism(p: number): this {
    if (!Number.isInteger(p) || p < 1) throw new ConfigurationError(`setParallelism(${p}): parallelism must be a whole number >= 1`);
    this.parallelism = p;
    return this;
  }
  getParallelism(): number {
    return this.parallelism;
  }
  setMaxParallelism(n: number): this {
    if (!Number.isInteger(n) || n < 1 || n > 32768) throw new ConfigurationError(`setMaxParallelism(${n}): must be within 1..32768`);
    this.maxParallelism = n;
    return this;
  }
  getMaxParallelism(): number {
    return this.maxParallelism;
  }

  enableCheckpointing(intervalMs: number, mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE): this {
    this.checkpointConfig.setCheckpointInterval(intervalMs);
    this.checkpointConfig.setCheckpointingMode(mode);
    return this;
  }
  getCheckpointConfig(): CheckpointConfig {
    return this.checkpointConfig;
  }

  setStateBackend(backend: StateBackend): this {
    this.backend = backend;
    backend.onConfigured?.(this.log);
    return this;
  }
  getStateBackend(): StateBackend {
    return this.backend;
  }

  setRestartStrategy(s: RestartStrategy): this {
    deprecated(this.log, "setRestartStrategy(RestartStrategies...)", "the restart-strategy.* configuration keys");
    this.restart = s;
    return this;
  }

  /** What the restart-strategy.* keys set: the modern path, so no deprecation hint. */
  configureRestartStrategy(s: RestartStrategy): this {
    this.restart = s;
    return this;
  }

  fromSource<T>(source: Source<T>, watermarks: WatermarkStrategy<T>, sourceName: string): SingleOutputStreamOperator<T> {
    const t = this.add({ kind: "source", name: `Source: ${sourceName}`, source, watermarks });
    return new SingleOutputStreamOperator<T>(this, t);
  }

  /**
   * Flink's addSource(SourceFunction): the function emits records, timestamps and watermarks
   * through its SourceContext; a non-parallel function runs as one subtask.
   */
  addSource<T>(fn: SourceFunction<T>, sourceName = "Custom Source"): SingleOutputStreamOperator<T> {
    const src = new FunctionSource<T>(fn, sourceName);
    const t = this.add({ kind: "source", name: `Source: ${sourceName}`, source: src, watermarks: WatermarkStrategy.noWatermarks<T>() });
    if (!src.parallel) t.parallelism = 1;
    return new SingleOutputStreamOperator<T>(this, t);
  }

  /** Resolved restart strategy: Flink's defaults when none is set. */
  restartStrategy(): RestartStrategy {
    if (this.restart) return this.restart;
    return this.checkpointConfig.isCheckpointingEnabled() ? DEFAULT_WITH_CHECKPOINTING : RestartStrategies.noRestart();
  }

  private world(): World {
    const w = this.options.world ?? {};
    return { fs: w.fs ?? new NodeFs(), feed: w.feed, faults: w.faults, startTime: w.startTime };
  }

  private storage(world: World, jobId: string): CheckpointStorage | undefined {
    const s = this.checkpointConfig.getCheckpointStorage() ?? this.backend.legacyStorage?.();
    if (s instanceof FileSystemCheckpointStorage) return s.forJob(jobId, world.fs);
    if (s) return s;
    return this.checkpointConfig.isCheckpointingEnabled() || this.options.fromSavepoint ? new JobManagerCheckpointStorage() : undefined;
  }

  /** Flink's getExecutionPlan, one line per task vertex. */
  getExecutionPlan(): string[] {
    return describeJobGraph(buildJobGraph(this.transformations, this.parallelism, this.maxParallelism));
  }

  validate(): ValidationResult {
    const graph = buildJobGraph(this.transformations, this.parallelism, this.maxParallelism);
    return validateJob(this.transformations, graph, this.checkpointConfig, this.world(), this.maxParallelism);
  }

  /**
   * Runs the job. In simulation (the default) it runs to completion in virtual time; with
   * `realtime` (sources on real sockets) the kernel follows the wall clock.
   */
  async execute(jobName = "flinch job", realtime?: RealtimeDriver): Promise<JobExecutionResult> {
    if (!realtime) return this.executeSync(jobName);
    const { runner, finish } = this.prepare(jobName, realtime.now());
    await runner.runRealtime(realtime, this.options.stopAt);
    return finish();
  }

  /** Runs the job to completion in virtual time (the simulator needs no event loop). */
  executeSync(jobName = "flinch job"): JobExecutionResult {
    const { runner, finish } = this.prepare(jobName);
    runner.run(this.options.stopAt, this.options.maxRestarts);
    return finish();
  }

  private prepare(jobName: string, realStart?: number): { runner: JobRunner; finish: () => JobExecutionResult } {
    const world = this.world();
    const graph = buildJobGraph(this.transformations, this.parallelism, this.maxParallelism);
    const v = validateJob(this.transformations, graph, this.checkpointConfig, world, this.maxParallelism);
    if (v.errors.length) throw new JobGraphValidationError(v.errors);
    for (const w of v.warnings) this.log.warn(w);
    const jobId = this.options.jobId ?? `${jobName.replace(/[^A-Za-z0-9_.-]+/g, "-")}-${this.seed}`;
    const storage = this.storage(world, jobId);
    if (storage instanceof FileSystemCheckpointStorage && !this.options.resume) storage.clear();
    const loadInitial = () => startingPoint({ fromSavepoint: this.options.fromSavepoint, resume: this.options.resume, storage, fs: world.fs, maxParallelism: this.maxParallelism, log: this.log });
    // A transient read failure (EIO) is not a missing checkpoint: the first attempt fails with it
    // and the restart strategy retries, rather than start from an older checkpoint or from scratch.
    let initialRestore: RestorePoint | undefined, initialRestoreError: CheckpointUnavailableError | undefined;
    try {
      initialRestore = loadInitial();
    } catch (e) {
      if (!(e instanceof CheckpointUnavailableError)) throw e;
      initialRestoreError = e;
    }
    const kernel = new Kernel(this.seed, realStart ?? world.startTime ?? 0, new Trace(this.options.keepTrace ?? false));
    const restart = this.restartStrategy();
    const runner = new JobRunner({
      jobName, graph, kernel, world, log: this.log, checkpoint: this.checkpointConfig, restart, backend: this.backend, storage,
      exec: { ...DEFAULT_EXECUTION, ...this.options.execution }, initialRestore, initialRestoreError, reloadInitialRestore: loadInitial,
      savepoint: this.options.savepoint && {
        at: this.options.savepoint.at,
        stop: this.options.savepoint.stop ?? false,
        storage: new FileSystemCheckpointStorage(this.options.savepoint.dir, world.fs),
      },
      checkpointObserver: this.options.checkpointObserver,
    });
    this.lastRunner = runner;
    const startTime = kernel.now();
    const stats = runner.stats;
    const finish = (): JobExecutionResult => ({
      jobName, jobId, seed: this.seed, status: runner.status, failureReason: runner.failureReason,
      traceHash: kernel.trace.hash(), traceLength: kernel.trace.length, trace: kernel.trace.lines(),
      startTime, endTime: kernel.now(), attempts: runner.attempt, restarts: runner.restarts,
      // Rows are built from the tracker's columns when first read (3,600 an hour at 1 s checkpoints).
      get checkpoints() {
        return stats.history;
      },
      restores: stats.restores, failures: stats.failures,
      reports: runner.reports, counters: Object.fromEntries(runner.counters), warnings: [...this.configWarnings, ...v.warnings],
      plan: describeJobGraph(graph), checkpointStorage: storage?.description, restartStrategy: describeRestartStrategy(restart),
      startedFrom: runner.startPoint ? { checkpointId: runner.startPoint.checkpointId, skipped: runner.startPoint.skipped } : undefined,
      stoppedWithSavepoint: runner.stoppedWithSavepoint !== undefined,
      savepointPath: runner.savepointId !== undefined && this.options.savepoint ? `${this.options.savepoint.dir.replace(/\/$/, "")}/chk-${runner.savepointId}` : undefined,
    });
    return { runner, finish };
  }
}

export { DataStream };
