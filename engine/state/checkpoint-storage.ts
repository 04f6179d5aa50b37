import * as path from "node:path";
import type { Fs } from "./fs.ts";
import { mkdirDurable, observerView, pathFromUri } from "./fs.ts";
import { removeAt } from "../kernel/remove-at.ts";
import type { ChunkSink } from "./binary-writer.ts";
import { CorruptFrameError, frame, FrameStreamWriter, unframe } from "./framing.ts";
import { deserialize, serialize } from "./serde.ts";

/** Where one subtask's state went in the async phase. */
export interface StateHandle {
  readonly task: string;
  readonly vertex: string;
  readonly subtask: number;
  readonly file: string;
  /**
   * Bytes written. Absent when the storage kept the snapshot as objects, unserialized
   * (JobManagerCheckpointStorage): there is no byte count to give without paying for an encoding.
   */
  readonly bytes?: number;
  /** Incremental: the checkpoint whose state this one's deltas apply to (the same task's handle there). */
  readonly parent?: number;
}

/**
 * State bytes that write themselves: file storage streams them in chunks (no whole-state copy),
 * memory storage keeps the payload and takes the bytes whole only when they are read. Each
 * method encodes anew; call one of them once.
 */
export interface StatePayload {
  /** Feeds the encoding to `sink` chunk by chunk (the last call has last = true); returns the byte count. */
  writeTo(sink: ChunkSink): number;
  toBytes(): Uint8Array;
}

/** The commit record of a checkpoint: written last, atomically. */
export interface CheckpointMetadata {
  readonly checkpointId: number;
  readonly timestamp: number;
  readonly savepoint: boolean;
  readonly maxParallelism: number;
  readonly handles: StateHandle[];
}

/**
 * Checkpoint storage: state bytes per subtask (async phase), then `_metadata` as the commit
 * point. `latestValid` finds the newest checkpoint whose metadata and every state file read
 * back whole.
 */
export interface CheckpointStorage {
  readonly description: string;
  /** True when checkpoints survive the death of the process (file storage). */
  readonly durable: boolean;
  writeState(checkpointId: number, handle: Omit<StateHandle, "file" | "bytes">, payload: Uint8Array | StatePayload): StateHandle;
  writeMetadata(meta: CheckpointMetadata): void;
  /** Completed checkpoint ids found in storage, newest first. */
  completedIds(): number[];
  /** Whether checkpoint `id` is stored complete (its metadata is there): one lookup, not a listing. */
  isCompleted(checkpointId: number): boolean;
  /** Whether anything of checkpoint `id` is stored, complete or not (a state file, its metadata, its directory). */
  holds(checkpointId: number): boolean;
  readMetadata(checkpointId: number): CheckpointMetadata;
  readState(checkpointId: number, handle: StateHandle): Uint8Array;
  discard(checkpointId: number): void;
  /**
   * The same checkpoints for an observer (a checker reading each one as it completes): reads that
   * change nothing the job will see (no encoding kept, no injected read fault); writes refused.
   */
  inspector(): CheckpointReader;
}

/** What an observer may do with checkpoint storage: read. */
export type CheckpointReader = Pick<CheckpointStorage, "description" | "completedIds" | "isCompleted" | "holds" | "readMetadata" | "readState">;

/**
 * A checkpoint file could not be read. `corrupt`: detected damage (CRC mismatch, truncation,
 * missing file), which will not heal; `io`: the read itself failed (EIO and the like), which may.
 */
export class CheckpointReadError extends Error {
  override readonly name = "CheckpointReadError";
  constructor(message: string, readonly kind: "corrupt" | "io" = "corrupt") {
    super(message);
  }
}

/** An error thrown by the Fs (it carries an errno code): ENOENT means missing, anything else a failed read. */
function readFailureKind(e: unknown): "corrupt" | "io" {
  if (e instanceof CorruptFrameError) return "corrupt";
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && code !== "ENOENT" ? "io" : "corrupt";
}

/**
 * Checkpoints in the coordinator's memory (Flink's JobManagerCheckpointStorage): they survive
 * a task failover, since the coordinator keeps running, and die with the process.
 *
 * A snapshot handed over as a StatePayload is kept as it is, not encoded: it is immutable from
 * its sync phase on (copy-on-write keyed state, fresh operator lists, timer snapshots nobody
 * changes), so encoding it when it is read back gives exactly the bytes that encoding it now
 * would, and most checkpoints are never read back. Encoding every one was two thirds of the
 * fixed cost of a checkpoint (issue 11). A read encodes once and keeps the bytes; restore decodes
 * them, so a restored task never shares an object with the stored snapshot.
 */
export class JobManagerCheckpointStorage implements CheckpointStorage {
  readonly description = "JobManagerCheckpointStorage (memory)";
  readonly durable = false;
  /**
   * Per checkpoint, ascending by id: its subtasks' states as a list (no array per checkpoint) and
   * its metadata. Metadata is kept as the object the coordinator built, not as bytes: it lives in
   * this process's memory either way, and serializing it was a fixed cost of every checkpoint.
   * Reads hand out copies, so no reader can change what a later restore sees. An array searched by
   * halves rather than two Maps: a checkpoint's entry is added, looked up a few times and deleted,
   * and Maps keyed by ids that only grow rehashed every other checkpoint (issue 11).
   */
  private readonly entries: StoredCheckpoint[] = [];

  /** Where the entry of `id` stands, or -1. */
  private indexOf(id: number): number {
    const e = this.entries;
    let lo = 0, hi = e.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1, x = e[m].id;
      if (x === id) return m;
      if (x < id) lo = m + 1;
      else hi = m - 1;
    }
    return -1;
  }

  private entry(id: number): StoredCheckpoint | undefined {
    const i = this.indexOf(id);
    return i < 0 ? undefined : this.entries[i];
  }

  /** The entry of `id`, made if there is none (ids normally arrive in order: appended). */
  private entryFor(id: number): StoredCheckpoint {
    const found = this.entry(id);
    if (found !== undefined) return found;
    const made: StoredCheckpoint = { id, head: undefined, meta: undefined };
    const e = this.entries;
    let i = e.length;
    e.push(made);
    while (i > 0 && e[i - 1].id > id) {
      e[i] = e[i - 1];
      i--;
    }
    e[i] = made;
    return made;
  }

  writeState(checkpointId: number, h: Omit<StateHandle, "file" | "bytes">, payload: Uint8Array | StatePayload): StateHandle {
    const file = fileName(h.vertex, h.subtask);
    const c = this.entryFor(checkpointId);
    let head = c.head;
    while (head !== undefined && head.file === file) head = head.next; // a rewrite replaces
    for (let x = head; x !== undefined; x = x.next) while (x.next !== undefined && x.next.file === file) x.next = x.next.next;
    c.head = { file, payload, next: head };
    // Spelled out, not spread: this runs once per subtask per checkpoint.
    const bytes = payload instanceof Uint8Array ? payload.length : undefined;
    return h.parent !== undefined
      ? { task: h.task, vertex: h.vertex, subtask: h.subtask, parent: h.parent, file, bytes }
      : { task: h.task, vertex: h.vertex, subtask: h.subtask, file, bytes };
  }
  writeMetadata(meta: CheckpointMetadata): void {
    // The handles array is the coordinator's; a copy keeps a later push on it out of the commit record.
    // Spelled out rather than spread: once per checkpoint.
    this.entryFor(meta.checkpointId).meta = { checkpointId: meta.checkpointId, timestamp: meta.timestamp, savepoint: meta.savepoint, maxParallelism: meta.maxParallelism, handles: meta.handles.slice() };
  }
  completedIds(): number[] {
    const ids: number[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i].meta !== undefined) ids.push(this.entries[i].id);
    return ids;
  }
  isCompleted(id: number): boolean {
    return this.entry(id)?.meta !== undefined;
  }
  holds(id: number): boolean {
    return this.entry(id) !== undefined;
  }
  readMetadata(id: number): CheckpointMetadata {
    const m = this.entry(id)?.meta;
    if (!m) throw new CheckpointReadError(`checkpoint ${id}: no metadata`);
    return { ...m, handles: m.handles.map((h) => ({ ...h })) };
  }
  readState(id: number, h: StateHandle): Uint8Array {
    const s = this.stored(id, h);
    if (!(s.payload instanceof Uint8Array)) s.payload = s.payload.toBytes();
    return s.payload;
  }
  private stored(id: number, h: StateHandle): StoredState {
    let s = this.entry(id)?.head;
    while (s !== undefined && s.file !== h.file) s = s.next;
    if (!s) throw new CheckpointReadError(`checkpoint ${id}: state ${h.file} missing`);
    return s;
  }
  discard(id: number): void {
    const i = this.indexOf(id);
    if (i >= 0) removeAt(this.entries, i);
  }
  inspector(): CheckpointReader {
    return {
      description: this.description,
      completedIds: () => this.completedIds(),
      isCompleted: (id) => this.isCompleted(id),
      holds: (id) => this.holds(id),
      readMetadata: (id) => this.readMetadata(id),
      // Encoded anew and not kept: keeping the bytes would freeze the snapshot at this read, and a
      // restore would then no longer see what a later change to the shared objects did to it.
      readState: (id, h) => {
        const { payload } = this.stored(id, h);
        return payload instanceof Uint8Array ? payload : payload.toBytes();
      },
    };
  }
}

/** One checkpoint in memory: its subtasks' states (a list; undefined: none yet) and its metadata (undefined: not completed). */
interface StoredCheckpoint {
  readonly id: number;
  head: StoredState | undefined;
  meta: CheckpointMetadata | undefined;
}

/** One subtask's state in memory: the snapshot as handed over, or its bytes once read; `next`: the checkpoint's other subtasks. */
interface StoredState {
  readonly file: string;
  payload: Uint8Array | StatePayload;
  next: StoredState | undefined;
}

/** `<vertex>-<subtask>`, built once per subtask: every checkpoint asks. */
const fileNames = new Map<string, string[]>();
function fileName(vertex: string, subtask: number): string {
  let a = fileNames.get(vertex);
  if (a === undefined) fileNames.set(vertex, (a = []));
  return (a[subtask] ??= `${vertex}-${subtask}`);
}

/**
 * Checkpoints as files (Flink's FileSystemCheckpointStorage): `<dir>/chk-<n>/<vertex>-<subtask>.state`
 * framed with length and CRC32 (streamed), then `<dir>/chk-<n>/_metadata` by temp file, fsync, rename,
 * fsync of the directory. Everything goes through `Fs`, so SimFs can lose what was not synced.
 */
export class FileSystemCheckpointStorage implements CheckpointStorage {
  readonly durable = true;
  readonly dir: string;
  private fsImpl?: Fs;
  /** `dir` as path.join leaves it before a plain segment, with its separator: paths here are built many times a run, and join normalizes each time. */
  private readonly prefix: string;

  constructor(uri: string, fs?: Fs) {
    this.dir = pathFromUri(uri);
    this.fsImpl = fs;
    this.prefix = path.join(this.dir, "x").slice(0, -1);
  }

  get description(): string {
    return `FileSystemCheckpointStorage(${this.dir})`;
  }

  /** This job's own directory under the configured one (Flink: `<dir>/<job-id>/chk-n`). */
  forJob(jobId: string, fs: Fs): FileSystemCheckpointStorage {
    return new FileSystemCheckpointStorage(path.join(this.dir, jobId), this.fsImpl ?? fs);
  }

  /** Removes every checkpoint of this job: a fresh (non-resumed) run must not restore an old run's state. */
  clear(): void {
    this.fs.rmrf(this.dir);
  }

  /** The job binds its world's Fs (SimFs in simulation) unless one was given. */
  bind(fs: Fs): this {
    if (!this.fsImpl) this.fsImpl = fs;
    return this;
  }

  private get fs(): Fs {
    if (!this.fsImpl) throw new Error("FileSystemCheckpointStorage: no Fs bound");
    return this.fsImpl;
  }

  /** `<dir>/chk-<id>`; below it every name is a plain segment (`_metadata`, a sanitized `<vertex>-<n>.state`), so `/` joins it as path.join would. */
  private chk(id: number): string {
    return `${this.prefix}chk-${id}`;
  }

  /** Streamed: encoded chunk by chunk into the file, CRC32 and length in a trailer (framing.ts). */
  writeState(checkpointId: number, h: Omit<StateHandle, "file" | "bytes">, payload: Uint8Array | StatePayload): StateHandle {
    const dir = this.chk(checkpointId);
    mkdirDurable(this.fs, dir);
    const file = `${h.vertex.replace(/[^A-Za-z0-9_.-]+/g, "_")}-${h.subtask}.state`;
    const p = `${dir}/${file}`;
    const out = new FrameStreamWriter(this.fs, p);
    if (payload instanceof Uint8Array) out.write(payload, true);
    else payload.writeTo(out.write);
    this.fs.fsync(p);
    this.fs.fsyncDir(dir);
    return { ...h, file, bytes: out.fileBytes };
  }

  writeMetadata(meta: CheckpointMetadata): void {
    const dir = this.chk(meta.checkpointId);
    mkdirDurable(this.fs, dir);
    const tmp = `${dir}/_metadata.inprogress`;
    this.fs.writeFile(tmp, frame(serialize(meta)));
    this.fs.fsync(tmp);
    this.fs.rename(tmp, `${dir}/_metadata`);
    this.fs.fsyncDir(dir);
    this.fs.fsyncDir(this.dir);
  }

  completedIds(): number[] {
    const ids: number[] = [];
    for (const name of this.fs.readdir(this.dir)) {
      const m = /^chk-(\d+)$/.exec(name);
      if (m && this.fs.exists(`${this.prefix}${name}/_metadata`)) ids.push(Number(m[1]));
    }
    return ids.sort((a, b) => b - a);
  }

  isCompleted(id: number): boolean {
    return this.fs.exists(`${this.chk(id)}/_metadata`);
  }

  holds(id: number): boolean {
    return this.fs.exists(this.chk(id));
  }

  readMetadata(id: number): CheckpointMetadata {
    const p = `${this.chk(id)}/_metadata`;
    try {
      return deserialize(unframe(this.fs.readFile(p), p));
    } catch (e) {
      throw new CheckpointReadError(e instanceof CorruptFrameError ? e.message : `${p}: ${(e as Error).message}`, readFailureKind(e));
    }
  }

  readState(id: number, h: StateHandle): Uint8Array {
    const p = `${this.chk(id)}/${h.file}`;
    if (!this.fs.exists(p)) throw new CheckpointReadError(`${p}: missing`);
    try {
      return unframe(this.fs.readFile(p), p);
    } catch (e) {
      throw new CheckpointReadError(e instanceof CorruptFrameError ? e.message : `${p}: ${(e as Error).message}`, readFailureKind(e));
    }
  }

  inspector(): CheckpointReader {
    return new FileSystemCheckpointStorage(this.dir, observerView(this.fs));
  }

  discard(id: number): void {
    const d = this.chk(id);
    if (!this.fs.exists(d)) return;
    this.fs.rmrf(d);
    // Without this a discarded checkpoint can reappear after a crash (restore would still
    // validate it, but retention would see it again).
    this.fs.fsyncDir(this.dir);
  }
}
