import { ownsLeftover, type Sink, type SinkContext, type SinkWriter } from "../../api/sink.ts";
import { TraceEvent } from "../../kernel/trace.ts";

/**
 * An in-memory external system with transactions, and a two-phase-commit sink into it.
 * The store outlives job attempts (it is "outside" the job), so only what was committed is
 * visible after a crash, exactly as with a transactional database.
 */
export class CollectStore<T> {
  readonly committed: T[] = [];
  private readonly pending = new Map<string, T[]>();
  private readonly done = new Set<string>();
  commits = 0;
  aborts = 0;

  preCommit(txn: string, records: T[]): void {
    this.pending.set(txn, records);
  }
  /** Idempotent: committing twice is a no-op; an unknown transaction is an error. */
  commit(txn: string): void {
    if (this.done.has(txn)) return;
    const r = this.pending.get(txn);
    if (!r) throw new Error(`CollectStore: transaction ${txn} was never pre-committed`);
    this.pending.delete(txn);
    this.done.add(txn);
    for (const x of r) this.committed.push(x);
    this.commits++;
  }
  abortAllExcept(keep: ReadonlySet<string>, owns: (txn: string) => boolean): void {
    for (const txn of [...this.pending.keys()]) {
      if (!keep.has(txn) && owns(txn)) {
        this.pending.delete(txn);
        this.aborts++;
      }
    }
  }
  pendingCount(): number {
    return this.pending.size;
  }
}

interface Handle {
  txn: string;
  /** The transaction's sequence and checkpoint, for the trace (numbers; `txn` is the store's key). */
  seq: number;
  cp: number;
}

export class CollectSink<T> implements Sink<T> {
  readonly sinkName = "Collect";
  readonly transactional = true;
  constructor(readonly store: CollectStore<T> = new CollectStore<T>()) {}

  createWriter(ctx: SinkContext): SinkWriter<T> {
    const store = this.store;
    let buf: T[] = [];
    let seq = 0;
    const prefix = `${ctx.subtaskIndex}-${ctx.attempt}-`;
    return {
      write: (v) => void buf.push(v),
      prepareCommit: (cp) => {
        const s = seq++;
        const txn = `${prefix}${s}@${cp}`;
        store.preCommit(txn, buf);
        buf = [];
        // Every checkpoint: numbers, not a line (kept lines read `v2.0 sink.pre-commit seq=3 cp=7`).
        ctx.traceEvent(TraceEvent.sinkPreCommit, s, cp);
        return [{ txn, seq: s, cp } satisfies Handle];
      },
      commit: (hs) => {
        for (const h of hs as Handle[]) {
          store.commit(h.txn);
          ctx.traceEvent(TraceEvent.sinkCommit, h.seq, h.cp);
        }
      },
      recover: (hs) => {
        const keep = new Set((hs as Handle[]).map((h) => h.txn));
        for (const h of hs as Handle[]) store.commit(h.txn);
        store.abortAllExcept(keep, (txn) => ownsLeftover(Number(txn.split("-")[0]), ctx));
      },
      close: () => {},
    };
  }
}
