import type { Kernel } from "../kernel/kernel.ts";
import type { Logger } from "../api/logger.ts";
import type { World } from "../api/world.ts";
import type { CheckpointConfig } from "../api/checkpoint-config.ts";
import type { RestartStrategy } from "../api/restart-strategies.ts";
import type { CheckpointReader, CheckpointStorage, StateHandle } from "../state/checkpoint-storage.ts";
import type { StateBackend } from "../state/backends.ts";
import type { RestorePoint } from "../checkpoint/restore.ts";
import type { JobGraph } from "./job-graph.ts";
import type { CheckpointFailureReasonKey } from "../checkpoint/failure-reason.ts";
import type { AlignmentEvent } from "../checkpoint/alignment/types.ts";
import type { TriggerKind } from "../checkpoint/trigger-policy.ts";

/** What a job run is made of: the graph, its clock and world, and how it checkpoints and restarts. */
export interface ExecutionOptions {
  /** Records per batch on the wire and per source poll. */
  batchSize: number;
  /** Elements a task handles before it yields to the scheduler. */
  maxElementsPerStep: number;
  /** Channel latency per batch, uniform in [min, max] ms of virtual time. */
  latencyMin: number;
  latencyMax: number;
  /** Coordinator <-> task message delay, uniform in [min, max]: triggers reach sources at different times, as RPCs do. */
  rpcLatencyMin: number;
  rpcLatencyMax: number;
  /** Delay of a snapshot's async phase, uniform in [min, max]. */
  asyncMin: number;
  asyncMax: number;
  /** Flink's execution.buffer-timeout: a partly filled batch waits at most this long (0: flush after every step). */
  bufferTimeout: number;
  /** Flink's pipeline.auto-watermark-interval: sources emit watermarks at most this often. */
  autoWatermarkInterval: number;
  /**
   * A source that has drained what arrived sleeps at least this long before polling again,
   * so everything that arrives in that time is fetched as one batch (what a connector's
   * network buffer and fetcher queue do). A poll never takes a record before its arrival time;
   * after a quiet spell the next arrival wakes the source at once. Trade order and timestamps
   * are unaffected; only delivery latency grows, by at most this much. The default is Flink's
   * buffer timeout (100 ms): downstream batches are shipped at that rate anyway, so polling
   * faster only multiplies steps (at 5 ms the seed job took ~2.4 trades per step and spent a
   * scheduler event, a fault check and a trace line on each).
   */
  sourcePollInterval: number;
}

export const DEFAULT_EXECUTION: ExecutionOptions = {
  batchSize: 512, maxElementsPerStep: 8, latencyMin: 0, latencyMax: 2, rpcLatencyMin: 1, rpcLatencyMax: 30, asyncMin: 1, asyncMax: 5, bufferTimeout: 100, autoWatermarkInterval: 200, sourcePollInterval: 100,
};

export interface JobSpec {
  readonly jobName: string;
  readonly graph: JobGraph;
  readonly kernel: Kernel;
  readonly world: World;
  readonly log: Logger;
  readonly checkpoint: CheckpointConfig;
  readonly restart: RestartStrategy;
  readonly backend: StateBackend;
  readonly storage?: CheckpointStorage;
  readonly exec: ExecutionOptions;
  /** Restore from this checkpoint/savepoint storage first (a savepoint, or a new process after a kill). */
  readonly initialRestore?: RestorePoint;
  /** Reading the initial restore point failed transiently: the first attempt fails with this, and the restart strategy retries. */
  readonly initialRestoreError?: Error;
  /** Reads the initial restore point again: a failover before the first checkpoint completes restores from it. */
  readonly reloadInitialRestore?: () => RestorePoint | undefined;
  /** Take a savepoint at this virtual time into `storage`; with `stop`, end the job once it is complete (stop-with-savepoint). */
  readonly savepoint?: { readonly at: number; readonly storage: CheckpointStorage; readonly stop: boolean };
  /** Told of each checkpoint's end (a harness's checkers); it may read, and changes nothing. */
  readonly checkpointObserver?: CheckpointObserver;
}

/** Watches checkpoints begin and end, in the coordinator's order; never decides anything. `time`: virtual ms. */
export interface CheckpointObserver {
  /** Periodic triggering started: at a deploy (the first, or a restart's). */
  started?(time: number): void;
  /** A failover stopped it, after cancelling the pending checkpoints (reported as failed). */
  stopped?(time: number): void;
  /** The coordinator triggered it (its pending checkpoint exists from now on); `stop`: a stop-with-savepoint's. */
  triggered?(checkpointId: number, kind: TriggerKind, time: number, stop: boolean): void;
  /** The checkpoint passed its commit point and is in the store. */
  completed?(c: CompletedCheckpointView): void;
  /**
   * It ended without completing, for `reason` (before the coordinator weighs the failure): aborted,
   * or cancelled by a task's failure or a failover.
   */
  failed?(checkpointId: number, reason: CheckpointFailureReasonKey, savepoint: boolean, time: number): void;
  /** A task's decline reached the coordinator (reported as it arrives, before the coordinator acts on it). */
  declined?(checkpointId: number, task: string, reason: CheckpointFailureReasonKey, time: number): void;
  /**
   * A task fed by network channels handled a barrier, an abort notice, an end of partition or an
   * alignment timeout (never called per record): `blocked` is which of its channels it holds back
   * now, read from the input gate itself. `attempt` tells a restarted task from its predecessor.
   */
  inputHandled?(task: string, attempt: number, e: AlignmentEvent, blocked: readonly boolean[]): void;
}

/** A completed checkpoint as an observer sees it: its id and a read-only view of where it is stored. */
export interface CompletedCheckpointView {
  readonly checkpointId: number;
  /** When it completed (virtual ms). */
  readonly time: number;
  readonly savepoint: boolean;
  /** The state handles its metadata holds, in task-name order. */
  readonly handles: readonly StateHandle[];
  readonly storage: CheckpointReader;
  readonly maxParallelism: number;
}
