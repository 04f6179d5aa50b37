import * as path from "node:path";
import { ownsLeftover, type Sink, type SinkContext, type SinkWriter } from "../../api/sink.ts";
import { mkdirDurable, pathFromUri, type Fs } from "../../state/fs.ts";
import { encodeRecord } from "./encoding.ts";

/**
 * Exactly-once file output by two-phase commit (Flink's FileSink / TwoPhaseCommitSinkFunction):
 * - records of the current epoch are buffered in the transaction;
 * - pre-commit writes them to `_pending/<txn>.jsonl` and fsyncs file and directory: durable, invisible;
 * - commit renames the file to `part-<txn>.jsonl` and fsyncs the directory: visible. Renaming an
 *   already-renamed file is a no-op, so commit is idempotent across restores;
 * - recovery commits what the restored checkpoint recorded and deletes every other pending file
 *   this subtask owns (leftovers of a failed attempt), so they can never become visible.
 * Readers see only `part-*.jsonl` files.
 */
interface Handle {
  txn: string;
  records: number;
}

const enc = new TextEncoder();

export class TransactionalFileSink<T> implements Sink<T> {
  readonly sinkName = "TransactionalFileSink";
  readonly transactional = true;
  readonly dir: string;
  constructor(uri: string) {
    this.dir = pathFromUri(uri);
  }

  createWriter(ctx: SinkContext): SinkWriter<T> {
    return new FileTxnWriter<T>(this.dir, ctx);
  }
}

class FileTxnWriter<T> implements SinkWriter<T> {
  private lines: string[] = [];
  private seq = 0;
  private readonly pendingDir: string;
  private readonly fs: Fs;

  constructor(private readonly dir: string, private readonly ctx: SinkContext) {
    this.fs = ctx.fs;
    this.pendingDir = path.join(dir, "_pending");
    mkdirDurable(this.fs, this.pendingDir);
  }

  write(v: T): void {
    this.lines.push(encodeRecord(v));
  }

  prepareCommit(checkpointId: number): unknown[] {
    const txn = `${this.ctx.subtaskIndex}-${this.ctx.attempt}-${this.seq++}-cp${checkpointId}`;
    const file = path.join(this.pendingDir, `${txn}.jsonl`);
    this.fs.writeFile(file, enc.encode(this.lines.length ? this.lines.join("\n") + "\n" : ""));
    this.fs.fsync(file);
    this.fs.fsyncDir(this.pendingDir);
    const h: Handle = { txn, records: this.lines.length };
    this.lines = [];
    this.ctx.trace(`sink.pre-commit ${txn} n=${h.records}`);
    return [h];
  }

  commit(handles: readonly unknown[]): void {
    for (const h of handles as Handle[]) {
      const from = path.join(this.pendingDir, `${h.txn}.jsonl`);
      const to = path.join(this.dir, `part-${h.txn}.jsonl`);
      if (this.fs.exists(from)) {
        this.fs.rename(from, to);
        this.fs.fsyncDir(this.dir);
        this.fs.fsyncDir(this.pendingDir);
      } else if (!this.fs.exists(to)) {
        throw new Error(`TransactionalFileSink: transaction ${h.txn} is neither pending nor committed in ${this.dir} (pre-committed data lost)`);
      }
      this.ctx.trace(`sink.commit ${h.txn}`);
    }
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
  }

  close(): void {}
}

/** Every committed line under `dir`, in file-name order: what a downstream reader would see. */
export function readCommittedLines(fs: Fs, uriOrDir: string): string[] {
  const dir = pathFromUri(uriOrDir);
  const out: string[] = [];
  const dec = new TextDecoder();
  for (const f of fs.readdir(dir)) {
    if (!f.startsWith("part-") || !f.endsWith(".jsonl")) continue;
    for (const line of dec.decode(fs.readFile(path.join(dir, f))).split("\n")) if (line) out.push(line);
  }
  return out;
}
