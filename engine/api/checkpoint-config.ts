import type { Millis } from "./time.ts";
import { FileSystemCheckpointStorage, type CheckpointStorage } from "../state/checkpoint-storage.ts";

export enum CheckpointingMode {
  EXACTLY_ONCE = "EXACTLY_ONCE",
  AT_LEAST_ONCE = "AT_LEAST_ONCE",
}

/** Flink's CheckpointConfig: plain settings, checked when the job graph is validated. */
export class CheckpointConfig {
  interval: Millis = -1; // -1: checkpointing disabled, as in Flink
  mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE;
  minPauseBetweenCheckpoints: Millis = 0;
  checkpointTimeout: Millis = 600_000;
  maxConcurrentCheckpoints = 1;
  tolerableCheckpointFailureNumber = 0;
  numRetained = 1;
  incremental = false;
  /** FLIP-76: barriers overtake in-flight records, which are persisted as channel state. EXACTLY_ONCE only. */
  unaligned = false;
  /**
   * With unaligned enabled: an alignment that has not finished after this long switches to unaligned.
   * 0 (Flink's default) means every checkpoint starts unaligned.
   */
  alignedCheckpointTimeout: Millis = 0;

  isCheckpointingEnabled(): boolean {
    return this.interval > 0;
  }
  setCheckpointInterval(ms: Millis): void {
    this.interval = ms;
  }
  getCheckpointInterval(): Millis {
    return this.interval;
  }
  setCheckpointingMode(mode: CheckpointingMode): void {
    this.mode = mode;
  }
  getCheckpointingMode(): CheckpointingMode {
    return this.mode;
  }
  setMinPauseBetweenCheckpoints(ms: Millis): void {
    this.minPauseBetweenCheckpoints = ms;
  }
  getMinPauseBetweenCheckpoints(): Millis {
    return this.minPauseBetweenCheckpoints;
  }
  setCheckpointTimeout(ms: Millis): void {
    this.checkpointTimeout = ms;
  }
  getCheckpointTimeout(): Millis {
    return this.checkpointTimeout;
  }
  setMaxConcurrentCheckpoints(n: number): void {
    this.maxConcurrentCheckpoints = n;
  }
  getMaxConcurrentCheckpoints(): number {
    return this.maxConcurrentCheckpoints;
  }
  setTolerableCheckpointFailureNumber(n: number): void {
    this.tolerableCheckpointFailureNumber = n;
  }
  getTolerableCheckpointFailureNumber(): number {
    return this.tolerableCheckpointFailureNumber;
  }
  enableUnalignedCheckpoints(enabled = true): void {
    this.unaligned = enabled;
  }
  isUnalignedCheckpointsEnabled(): boolean {
    return this.unaligned;
  }
  setAlignedCheckpointTimeout(ms: Millis): void {
    this.alignedCheckpointTimeout = ms;
  }
  getAlignedCheckpointTimeout(): Millis {
    return this.alignedCheckpointTimeout;
  }
  setNumRetainedCheckpoints(n: number): void {
    this.numRetained = n;
  }
  storage?: CheckpointStorage;
  /** A storage, or a `file://` URI / path for FileSystemCheckpointStorage. */
  setCheckpointStorage(storage: CheckpointStorage | string): void {
    this.storage = typeof storage === "string" ? new FileSystemCheckpointStorage(storage) : storage;
  }
  getCheckpointStorage(): CheckpointStorage | undefined {
    return this.storage;
  }
}
