import { threadId } from "node:worker_threads";
import * as os from "node:os";
import * as path from "node:path";
import type { KeyGroupRange } from "../keygroups.ts";
import type { StateBackend } from "../backends.ts";
import type { KeyedStateBackend } from "../keyed-state.ts";
import { FULL_SNAPSHOTS, type SnapshotStrategy } from "../../checkpoint/snapshot-strategy.ts";
import { KvKeyedStateBackend, type KvKeyedBackendOptions } from "./kv-keyed-backend.ts";
import { KvChangeTrackingSnapshots } from "./kv-snapshot-strategy.ts";
import { giveEnv, takeEnv, type KvEnv } from "./kv-env-pool.ts";

export interface EmbeddedKVStateBackendOptions extends KvKeyedBackendOptions {
  /** Parent of the per-task working directories; the OS temp directory by default. */
  localDir?: string;
}

/** Process-wide, so two backends sharing a localDir never hand out the same directory. */
let taskCounter = 0;

/**
 * Working state in an embedded KV store on lmdb (Flink's EmbeddedRocksDBStateBackend).
 * Checkpoint storage is configured apart, as for HashMapStateBackend. Each keyed task gets
 * its own environment in `<localDir>/flinch-kv-<pid>-<thread>-<n>-<task>`; the pid keeps a parent
 * and a restarted child process (chaos --process) apart when they share a localDir, and the
 * thread id keeps worker threads apart (chaos --workers): each thread has its own counter.
 */
export class EmbeddedKVStateBackend implements StateBackend {
  readonly name: string = "kv";
  readonly localDir: string;

  constructor(private readonly opts: EmbeddedKVStateBackendOptions = {}) {
    this.localDir = opts.localDir ?? os.tmpdir();
  }

  /** Incremental checkpoints from the backend's own change tracking, not by diffing a full scan. */
  createSnapshotStrategy(keyed: KeyedStateBackend, incremental: boolean): SnapshotStrategy {
    return incremental && keyed instanceof KvKeyedStateBackend ? new KvChangeTrackingSnapshots(keyed) : FULL_SNAPSHOTS;
  }

  /** A disposed task's environment, emptied, goes to the next task of this thread (kv-env-pool.ts); its directory keeps its first task's name. */
  createKeyedBackend(range: KeyGroupRange, taskName: string): KvKeyedStateBackend {
    const opts = { writeBufferEntries: this.opts.writeBufferEntries, readCacheEntries: this.opts.readCacheEntries };
    const parent = this.localDir;
    const release = (env: KvEnv) => giveEnv(parent, env);
    const pooled = takeEnv(parent);
    if (pooled) return new KvKeyedStateBackend(range, pooled, opts, release);
    const safe = taskName.replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 80);
    return new KvKeyedStateBackend(range, path.join(parent, `flinch-kv-${process.pid}-${threadId}-${++taskCounter}-${safe}`), opts, release);
  }
}

/** The name Flink users know; the same backend. */
export class EmbeddedRocksDBStateBackend extends EmbeddedKVStateBackend {
  override readonly name: string = "rocksdb";
}
