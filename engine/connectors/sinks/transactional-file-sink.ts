import * as path from "node:path";
import { ownsLeftover, type Sink, type SinkContext, type SinkWriter } from "../../api/sink.ts";
import { mkdirDurable, pathFromUri, type Fs } from "../../state/fs.ts";
import { encodeRecord } from "./encoding.ts";
import { compactedInto, liveParts, parsePartName, rangeFileName } from "./part-files.ts";

export { readCommittedLines } from "./part-files.ts";

/**
 * Exactly-once file output by two-phase commit (Flink's FileSink / TwoPhaseCommitSinkFunction):
 * - records of the current epoch are buffered in the transaction;
 * - pre-commit writes them to `_pending/<txn>.jsonl` and fsyncs file and directory: durable, invisible;
 *   an epoch with no records pre-commits nothing (no handle, no file);
 * - commit renames the file to `part-<txn>.jsonl` and fsyncs the directory: visible. Renaming an
 *   already-renamed file is a no-op, so commit is idempotent across restores;
 * - recovery commits what the restored checkpoint recorded and deletes every other pending file
 *   this subtask owns (leftovers of a failed attempt), so they can never become visible.
 * Rolling: once `compactAfter` epochs of this writer are visible, they are compacted with the
 * writer's current range file into one `part-<s>-<a>-r<from>-<to>.jsonl` (see part-files.ts for why
 * a reader never sees a line twice); a range that reaches `rollBytes` is closed and a new one starts.
 * A long run leaves about one file per subtask and attempt per `rollBytes`, not one per checkpoint.
 * Readers see only `part-*.jsonl` files, through readCommittedLines.
 */
interface Handle {
  txn: string;
  records: number;
}

const enc = new TextEncoder();

export interface RollingPolicy {
  /** Compact once this many committed epochs of a writer are visible as separate files (default 16). */
  compactAfter: number;
  /** Close a range file once it holds this many bytes and start the next (default 64 MiB). */
  rollBytes: number;
}

export const DEFAULT_ROLLING: RollingPolicy = { compactAfter: 16, rollBytes: 64 * 1024 * 1024 };

export class TransactionalFileSink<T> implements Sink<T> {
  readonly sinkName = "TransactionalFileSink";
  readonly transactional = true;
  readonly dir: string;
  readonly rolling: RollingPolicy;
  constructor(uri: string, rolling: Partial<RollingPolicy> = {}) {
    this.dir = pathFromUri(uri);
    this.rolling = { ...DEFAULT_ROLLING, ...rolling };
    if (!(this.rolling.compactAfter >= 1) || !(this.rolling.rollBytes >= 1)) throw new Error(`TransactionalFileSink: compactAfter and rollBytes must be >= 1`);
  }

  createWriter(ctx: SinkContext): SinkWriter<T> {
    return new FileTxnWriter<T>(this.dir, ctx, this.rolling);
  }
}

class FileTxnWriter<T> implements SinkWriter<T> {
  private lines: string[] = [];
  private seq = 0;
  private readonly pendingDir: string;
  private readonly fs: Fs;
  /** This writer's committed epochs not yet compacted, in seq order (commits happen in checkpoint order). */
  private loose: { seq: number; cp: number; file: string }[] = [];
  /**
   * Transactions this writer pre-committed and has not committed yet: only these roll into its
   * range. Its name (subtask, attempt) does not tell them from restored ones: a job started from a
   * savepoint counts attempts from 1 again, so it recovers the transactions of the job before it
   * under the same subtask and attempt, and a range of both ran from seq 2 to seq 0, which no
   * recovery found again ("pre-committed data lost", found by chaos with compactAfter=2 and a rescale).
   */
  private readonly own = new Set<string>();
  /** The open range: seqs from..to (checkpoints cpFrom..cpTo) of this attempt already compacted into `file`. */
  private range?: { from: number; to: number; cpFrom: number; cpTo: number; file: string; bytes: number };

  constructor(private readonly dir: string, private readonly ctx: SinkContext, private readonly rolling: RollingPolicy) {
    this.fs = ctx.fs;
    this.pendingDir = path.join(dir, "_pending");
    mkdirDurable(this.fs, this.pendingDir);
  }

  write(v: T): void {
    this.lines.push(encodeRecord(v));
  }

  prepareCommit(checkpointId: number): unknown[] {
    // An empty epoch commits nothing: no handle, no file (a long idle run used to leave
    // one empty part file per subtask per checkpoint).
    if (this.lines.length === 0) return [];
    const txn = `${this.ctx.subtaskIndex}-${this.ctx.attempt}-${this.seq++}-cp${checkpointId}`;
    const file = path.join(this.pendingDir, `${txn}.jsonl`);
    this.fs.writeFile(file, enc.encode(this.lines.join("\n") + "\n"));
    this.fs.fsync(file);
    this.fs.fsyncDir(this.pendingDir);
    const h: Handle = { txn, records: this.lines.length };
    this.own.add(txn);
    this.lines = [];
    this.ctx.trace(`sink.pre-commit ${txn} n=${h.records}`);
    return [h];
  }

  commit(handles: readonly unknown[]): void {
    for (const h of handles as Handle[]) {
      const from = path.join(this.pendingDir, `${h.txn}.jsonl`);
      const to = path.join(this.dir, `part-${h.txn}.jsonl`);
      const name = parsePartName(`part-${h.txn}.jsonl`);
      if (this.fs.exists(from)) this.fs.rename(from, to);
      else if (!this.fs.exists(to) && !(name?.kind === "txn" && compactedInto(this.fs, this.dir, name))) {
        throw new Error(`TransactionalFileSink: transaction ${h.txn} is neither pending nor committed in ${this.dir} (pre-committed data lost)`);
      }
      // The rename is durable only with both directories fsynced, the destination's first. Also
      // when it was done already (a recovery commits again) by an attempt whose directory fsync
      // failed: a power loss could still undo it, and once a later checkpoint no longer lists the
      // transaction, recovery would delete it from _pending.
      if (this.fs.exists(to)) {
        this.fs.fsyncDir(this.dir);
        this.fs.fsyncDir(this.pendingDir);
      }
      this.ctx.trace(`sink.commit ${h.txn}`);
      // Only this writer's own epochs roll into its range; restored ones stay as they are.
      if (this.own.delete(h.txn) && name?.kind === "txn" && this.fs.exists(to)) this.loose.push({ seq: name.seq, cp: name.cp, file: to });
    }
    if (this.loose.length >= this.rolling.compactAfter) this.compact();
  }

  /**
   * Folds the loose epochs into the open range: the new range file (old range + loose lines) is
   * written durably under _pending, renamed into view, and only then are the files it covers
   * deleted. A crash in between leaves both, which readers resolve by coverage (part-files.ts).
   */
  private compact(): void {
    const r = this.range && this.range.bytes < this.rolling.rollBytes ? this.range : undefined;
    const from = r ? r.from : this.loose[0]!.seq;
    const cpFrom = r ? r.cpFrom : this.loose[0]!.cp;
    const last = this.loose[this.loose.length - 1]!;
    const to = last.seq;
    const cpTo = last.cp;
    const parts: Uint8Array[] = [];
    if (r) parts.push(this.fs.readFile(r.file));
    for (const l of this.loose) parts.push(this.fs.readFile(l.file));
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    const buf = new Uint8Array(bytes);
    let off = 0;
    for (const p of parts) {
      buf.set(p, off);
      off += p.length;
    }
    const name = rangeFileName(this.ctx.subtaskIndex, this.ctx.attempt, from, to, cpFrom, cpTo);
    // Under _pending with the owner first, so recovery deletes it as a leftover if the rename never happened.
    const tmp = path.join(this.pendingDir, `${this.ctx.subtaskIndex}-${this.ctx.attempt}-r${from}-${to}-cp${cpFrom}-${cpTo}.compact`);
    const file = path.join(this.dir, name);
    this.fs.writeFile(tmp, buf);
    this.fs.fsync(tmp);
    this.fs.fsyncDir(this.pendingDir);
    this.fs.rename(tmp, file);
    this.fs.fsyncDir(this.dir);
    this.fs.fsyncDir(this.pendingDir);
    for (const l of this.loose) this.fs.unlink(l.file);
    if (r) this.fs.unlink(r.file);
    this.fs.fsyncDir(this.dir);
    this.ctx.trace(`sink.compact ${name} n=${this.loose.length}${r ? " +range" : ""}`);
    this.range = { from, to, cpFrom, cpTo, file, bytes };
    this.loose = [];
  }

  recover(handles: readonly unknown[]): void {
    this.commit(handles);
    const keep = new Set((handles as Handle[]).map((h) => `${h.txn}.jsonl`));
    for (const f of this.fs.readdir(this.pendingDir)) {
      if (keep.has(f)) continue;
      if (ownsLeftover(Number(f.split("-")[0]), this.ctx)) {
        this.fs.unlink(path.join(this.pendingDir, f));
        this.ctx.trace(`sink.abort ${f}`);
      }
    }
    // Finish compactions a crash interrupted after the range became visible: delete what it covers.
    const { superseded } = liveParts(this.fs, this.dir);
    for (const f of superseded) {
      const p = parsePartName(f);
      if (p && ownsLeftover(p.subtask, this.ctx)) {
        this.fs.unlink(path.join(this.dir, f));
        this.ctx.trace(`sink.compacted-leftover ${f}`);
      }
    }
    if (superseded.length) this.fs.fsyncDir(this.dir);
  }

  close(): void {}
}
