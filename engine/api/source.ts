import type { Kernel } from "../kernel/kernel.ts";
import type { Rng } from "../kernel/rng.ts";
import type { Logger } from "./logger.ts";
import type { World } from "./world.ts";

/** One independently ordered part of a source's input (a symbol of a Binance feed). */
export interface SourceSplit {
  readonly splitId: string;
}

/** Returned by pollNext when the reader has no more input, ever (bounded sources). */
export const END_OF_INPUT = -1;

/** Where a reader puts records: `split` is the index in the reader's own split list. */
export interface ReaderOutput<T> {
  collect(split: number, value: T, timestamp: number): void;
  /** A watermark the reader itself decides (SourceFunction's ctx.emitWatermark), for sources without a WatermarkStrategy. */
  emitReaderWatermark?(watermark: number): void;
}

export interface SourceReaderContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly kernel: Kernel;
  readonly rng: Rng;
  readonly log: Logger;
  readonly world: World;
  trace(what: string): void;
  /** Data arrived from outside the simulation (a real socket): poll me now. */
  wakeup(): void;
  /** Counts something the reader refused or repaired (duplicates, gaps) for the report. */
  count(what: string, n: number): void;
}

/**
 * Flink's SourceReader, made synchronous for the simulator: each poll emits what has arrived
 * by `now` (at most `max` records) and says when to poll again: a virtual time, or
 * END_OF_INPUT. Offsets go into list state so a restore resumes exactly after them.
 */
export interface SourceReader<T> {
  pollNext(now: number, max: number, out: ReaderOutput<T>): number;
  /**
   * Minimum virtual ms between polls that took all there was, for a reader that paces itself
   * (a SourceFunction's run returns its own delay). Readers that report arrival times leave it
   * unset: the job's `sourcePollInterval` then batches what arrives in between.
   */
  readonly pollInterval?: number;
  /**
   * The entries are the checkpoint's from now on: in-memory checkpoint storage keeps them as they
   * are (encoding only when read back), so return fresh values and never change them afterwards.
   */
  snapshotState(checkpointId: number): unknown[];
  /** Union of every old subtask's entries; the reader keeps those of its own splits. */
  restoreState(entries: readonly unknown[]): void;
  /** Flink's SourceReader.notifyCheckpointComplete (CheckpointListener of source functions). */
  notifyCheckpointComplete?(checkpointId: number): void;
  close(): void;
}

export interface Source<T> {
  readonly sourceName: string;
  isBounded(world: World): boolean;
  /** Problems that stop the job before it runs (a missing feed, an empty symbol list). */
  validate?(world: World): string[];
  createSplits(world: World): SourceSplit[];
  createReader(splits: SourceSplit[], ctx: SourceReaderContext): SourceReader<T>;
}
