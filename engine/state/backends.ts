import type { KeyGroupRange } from "./keygroups.ts";
import type { Logger } from "../api/logger.ts";
import { deprecated } from "../api/logger.ts";
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage, type CheckpointStorage } from "./checkpoint-storage.ts";
import { HeapKeyedStateBackend } from "./heap-keyed-backend.ts";
import type { KeyedStateBackend } from "./keyed-state.ts";
import type { SnapshotStrategy } from "../checkpoint/snapshot-strategy.ts";

/** Where working state lives; checkpoint storage (where snapshots go) is configured apart, as in Flink 1.13+. */
export interface StateBackend {
  readonly name: string;
  createKeyedBackend(range: KeyGroupRange, taskName: string): KeyedStateBackend;
  /** How this backend's keyed state is written at a checkpoint; absent: whole, or diffed against the base when incremental. */
  createSnapshotStrategy?(keyed: KeyedStateBackend, incremental: boolean): SnapshotStrategy;
  /** Legacy backends carried their checkpoint storage; the modern ones return undefined. */
  legacyStorage?(): CheckpointStorage | undefined;
  /** Called once when set on an environment: deprecated names log their hint here. */
  onConfigured?(log: Logger): void;
}

/** Working state in JS maps (Flink's HashMapStateBackend). */
export class HashMapStateBackend implements StateBackend {
  readonly name: string = "hashmap";
  createKeyedBackend(range: KeyGroupRange): KeyedStateBackend {
    return new HeapKeyedStateBackend(range);
  }
}

/** Deprecated: HashMapStateBackend + JobManagerCheckpointStorage. */
export class MemoryStateBackend extends HashMapStateBackend {
  override readonly name = "memory";
  private readonly storage = new JobManagerCheckpointStorage();
  legacyStorage(): CheckpointStorage {
    return this.storage;
  }
  onConfigured(log: Logger): void {
    deprecated(log, "MemoryStateBackend", "HashMapStateBackend with JobManagerCheckpointStorage");
  }
}

/** Deprecated: HashMapStateBackend + FileSystemCheckpointStorage(uri). */
export class FsStateBackend extends HashMapStateBackend {
  override readonly name = "filesystem";
  private readonly storage: FileSystemCheckpointStorage;
  constructor(readonly checkpointUri: string) {
    super();
    this.storage = new FileSystemCheckpointStorage(checkpointUri);
  }
  legacyStorage(): CheckpointStorage {
    return this.storage;
  }
  onConfigured(log: Logger): void {
    deprecated(log, "FsStateBackend", "HashMapStateBackend with FileSystemCheckpointStorage");
  }
}
