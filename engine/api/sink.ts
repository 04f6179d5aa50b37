import type { Fs } from "../state/fs.ts";
import type { Logger } from "./logger.ts";
import type { TraceEventKind } from "../kernel/trace.ts";

export interface SinkContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly attempt: number;
  readonly fs: Fs;
  readonly log: Logger;
  readonly checkpointingEnabled: boolean;
  trace(what: string): void;
  /**
   * An entry made every checkpoint, as numbers: kept lines read as `trace` would
   * (`v2.0 sink.pre-commit seq=3 cp=7` for TraceEvent.sinkPreCommit with a = 3, b = 7), but no
   * string is built or hashed unless lines are kept.
   */
  traceEvent(kind: TraceEventKind, a: number, b?: number): void;
}

/**
 * Flink's Sink V2 folded into one writer. A transactional sink follows two-phase commit:
 * `prepareCommit` at the checkpoint's synchronous phase makes the epoch durable but invisible
 * and returns handles that go into state; `commit` makes them visible, idempotently.
 */
export interface SinkWriter<T> {
  write(value: T, timestamp: number): void;
  prepareCommit(checkpointId: number): unknown[];
  commit(handles: readonly unknown[]): void;
  /** After a restore: commit `handles` (they were pre-committed by a completed checkpoint), abort any other leftovers. */
  recover(handles: readonly unknown[]): void;
  /**
   * Flink's StatefulSinkWriter: state the writer keeps across failures (buffered records,
   * counters), taken at the checkpoint's synchronous phase. Copied then, so later changes do
   * not reach the checkpoint.
   */
  snapshotState?(checkpointId: number): unknown[];
  /** On a restore, before any write: this subtask's share of the states the writers snapshotted (all of them at the same parallelism). */
  initializeState?(states: readonly unknown[]): void;
  close(): void;
}

export interface Sink<T> {
  readonly sinkName: string;
  /** True when output is exactly-once under EXACTLY_ONCE checkpointing. */
  readonly transactional: boolean;
  createWriter(ctx: SinkContext): SinkWriter<T>;
}

/**
 * Which leftover transactions a recovering writer aborts: its own subtask's, and subtask 0
 * also those of subtasks that no longer exist after a rescale down, so none is orphaned.
 */
export function ownsLeftover(ownerSubtask: number, ctx: Pick<SinkContext, "subtaskIndex" | "parallelism">): boolean {
  return ownerSubtask === ctx.subtaskIndex || (ctx.subtaskIndex === 0 && ownerSubtask >= ctx.parallelism);
}
