import { createHash, type Hash } from "node:crypto";

/** Kinds of the frequent events recorded with `Trace.event` (numbers: no string is built). */
export const TraceEvent = {
  /** A source step emitted `a` records. */
  emit: 1,
  /** A task took a batch of `b` records from input channel `a`. */
  in: 2,
  /** A task's combined watermark advanced to `a`. */
  watermark: 3,
  // The checkpoint life cycle: a handful per checkpoint, but at 1 s checkpoints as many as a
  // thousand records' worth of line text and sha256 each (issue 11), so numbers too.
  /** The coordinator triggered checkpoint `a`; `b`: 1 final, 2 savepoint (bits). */
  cpTrigger: 4,
  /** Checkpoint (or savepoint, `b` = 1) `a` completed. */
  cpComplete: 5,
  /** The coordinator discarded retired checkpoint `a`. */
  cpDiscard: 6,
  /** A task took its snapshot for checkpoint `a` (its sync phase); `b` = 1: unaligned. */
  cpSnapshot: 7,
  // A two-phase-commit sink's transactions: one pre-commit and one commit per checkpoint per
  // sink subtask, numbers for the same reason. `a`: the writer's transaction number in this
  // attempt (its sequence), `b`: the checkpoint it belongs to; with the task and the attempt
  // (traced at each restart) that names the transaction.
  /** A sink pre-committed its transaction `a` for checkpoint `b`. */
  sinkPreCommit: 8,
  /** A sink committed its transaction `a` (pre-committed for checkpoint `b`). */
  sinkCommit: 9,
} as const;
export type TraceEventKind = (typeof TraceEvent)[keyof typeof TraceEvent];

/** A subtask's number in Trace.event (the coordinator's is COORDINATOR_TRACE_ID): one per subtask, never negative. */
export function subtaskTraceId(vertexId: number, subtask: number): number {
  return vertexId * 65_536 + subtask;
}

/** A subtask's short name in kept trace lines ("v1.0": vertex 1, subtask 0); deploy traces which task it is. */
export function subtaskTraceName(vertexId: number, subtask: number): string {
  return `v${vertexId}.${subtask}`;
}

/** The `task` number of the coordinator's events (a task's is subtaskTraceId's, never negative). */
export const COORDINATOR_TRACE_ID = -1;

/**
 * The canonical record of a run: one entry per decision that matters (deliveries, watermarks,
 * window firings, checkpoints, faults, restarts). Same (scenario, seed) must give the same
 * entries, so `hash` is the determinism check. Lines are kept only when asked, for failing runs.
 *
 * Two kinds of entry, one sequence. Rare decisions are text (`line`), hashed with sha256 in
 * 64 KiB chunks. The per-batch ones (a batch emitted, taken, a watermark advanced) run tens of
 * thousands of times a second, so `event` folds their numbers, with their position in the
 * sequence, into two 32-bit multiply-xor lanes instead of formatting a string; `hash` ends the
 * sha256 input with the fold. The digest is thus a deterministic function of the same events in
 * the same order, and kept lines read exactly as if every entry had been text.
 */
export class Trace {
  private readonly sha: Hash = createHash("sha256");
  private readonly kept: string[] | undefined;
  private n = 0;
  private pending = "";
  private h1 = 0x9747b28c | 0;
  private h2 = 0x5bd1e995 | 0;
  /** A double's exact bits as two int32s, for folding times and watermarks (±Infinity included). */
  private readonly f64 = new Float64Array(1);
  private readonly i32 = new Int32Array(this.f64.buffer);

  constructor(keepLines = false) {
    this.kept = keepLines ? [] : undefined;
  }

  line(time: number, what: string): void {
    const l = `${time} ${what}\n`;
    // Hashing in 64 KiB chunks costs a fraction of one update per line; the digest is the same.
    this.pending += l;
    if (this.pending.length > 65_536) {
      this.sha.update(this.pending);
      this.pending = "";
    }
    this.kept?.push(l);
    this.n++;
  }

  /**
   * A per-batch event of task `task` (a number unique per subtask; `tid` is its short name, used
   * only when lines are kept): kind, and up to two numbers. No allocation unless lines are kept.
   */
  event(time: number, task: number, tid: string, kind: TraceEventKind, a: number, b = 0): void {
    // Five words, not eight (issue 11: several events per checkpoint and one per batch). Task,
    // kind, whether `a` is an int32 (then one word) and the position share one: the position is
    // what ties events to the text lines between them, which the fold does not see.
    const small = (a | 0) === a;
    this.mixNum(time);
    this.mix(((task << 5) ^ (kind << 1) ^ (small ? 1 : 0)) + Math.imul(this.n, 0x9e3779b1));
    if (small) this.mix(a);
    else this.mixNum(a);
    this.mix(b | 0);
    if (this.kept) this.kept.push(`${time} ${format(tid, kind, a, b)}\n`);
    this.n++;
  }

  private mixNum(x: number): void {
    this.f64[0] = x;
    this.mix(this.i32[0]);
    this.mix(this.i32[1]);
  }

  // murmur3's block step on one lane, a different multiplier on the other: cheap, and a change
  // in any folded word changes both lanes.
  private mix(x: number): void {
    let k = Math.imul(x, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let h = this.h1 ^ k;
    h = (h << 13) | (h >>> 19);
    this.h1 = (Math.imul(h, 5) + 0xe6546b64) | 0;
    let g = Math.imul(this.h2 ^ x, 0x85ebca6b);
    g ^= g >>> 13;
    this.h2 = Math.imul(g, 0xc2b2ae35);
  }

  get length(): number {
    return this.n;
  }

  lines(): readonly string[] {
    return this.kept ?? [];
  }

  /** Finalizes the hash; call once, at the end of the run. */
  hash(): string {
    if (this.pending) {
      this.sha.update(this.pending);
      this.pending = "";
    }
    const s = this.sha.copy();
    s.update(`fold ${this.h1 >>> 0} ${this.h2 >>> 0} ${this.n}\n`);
    return s.digest("hex");
  }
}

function format(tid: string, kind: TraceEventKind, a: number, b: number): string {
  switch (kind) {
    case TraceEvent.emit: return `${tid} emit n=${a}`;
    case TraceEvent.in: return `${tid} in=${a} n=${b}`;
    case TraceEvent.watermark: return `${tid} wm=${a}`;
    case TraceEvent.cpTrigger: return `${tid} trigger cp=${a}${b & 1 ? " final" : ""}${b & 2 ? " savepoint" : ""}`;
    case TraceEvent.cpComplete: return `${tid} complete ${b ? "savepoint" : "cp"}=${a}`;
    case TraceEvent.cpDiscard: return `${tid} discard cp=${a}`;
    case TraceEvent.cpSnapshot: return `${tid} snapshot cp=${a}${b ? " unaligned" : ""}`;
    case TraceEvent.sinkPreCommit: return `${tid} sink.pre-commit seq=${a} cp=${b}`;
    case TraceEvent.sinkCommit: return `${tid} sink.commit seq=${a} cp=${b}`;
  }
}
