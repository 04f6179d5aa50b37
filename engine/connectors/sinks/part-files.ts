import * as path from "node:path";
import { pathFromUri, type Fs } from "../../state/fs.ts";

/**
 * The names of the transactional file sink's visible files, and the one rule that reads them.
 * - `part-<subtask>-<attempt>-<seq>-cp<checkpoint>.jsonl`: one committed epoch (a transaction);
 * - `part-<subtask>-<attempt>-r<from>-<to>-cp<first>-<last>.jsonl`: a compacted range, holding exactly
 *   the lines of that writer's transactions <from>..<to> (checkpoints <first>..<last>), and of any
 *   smaller range it replaced. Subtask, attempt and seq repeat in a new process (a resumed job starts
 *   at attempt 1 again); checkpoint ids do not, since they continue after the restored checkpoint,
 *   so coverage needs both.
 * Compaction makes the range visible first and deletes what it covers after, so a crash between the
 * two leaves both; the reader therefore skips every file a visible range covers. That keeps what a
 * reader sees exactly-once at every instant, with no manifest to keep consistent.
 */
export type PartName =
  | { kind: "txn"; subtask: number; attempt: number; seq: number; cp: number }
  | { kind: "range"; subtask: number; attempt: number; from: number; to: number; cpFrom: number; cpTo: number };

const TXN = /^part-(\d+)-(\d+)-(\d+)-cp(\d+)\.jsonl$/;
const RANGE = /^part-(\d+)-(\d+)-r(\d+)-(\d+)-cp(\d+)-(\d+)\.jsonl$/;

export function parsePartName(f: string): PartName | undefined {
  let m = TXN.exec(f);
  if (m) return { kind: "txn", subtask: Number(m[1]), attempt: Number(m[2]), seq: Number(m[3]), cp: Number(m[4]) };
  m = RANGE.exec(f);
  if (m) return { kind: "range", subtask: Number(m[1]), attempt: Number(m[2]), from: Number(m[3]), to: Number(m[4]), cpFrom: Number(m[5]), cpTo: Number(m[6]) };
  return undefined;
}

export function rangeFileName(subtask: number, attempt: number, from: number, to: number, cpFrom: number, cpTo: number): string {
  return `part-${subtask}-${attempt}-r${from}-${to}-cp${cpFrom}-${cpTo}.jsonl`;
}

type Range = Extract<PartName, { kind: "range" }>;

function rangeCovers(r: Range, p: PartName): boolean {
  if (r.subtask !== p.subtask || r.attempt !== p.attempt) return false;
  if (p.kind === "txn") return r.from <= p.seq && p.seq <= r.to && r.cpFrom <= p.cp && p.cp <= r.cpTo;
  const inside = r.from <= p.from && p.to <= r.to && r.cpFrom <= p.cpFrom && p.cpTo <= r.cpTo;
  return inside && (r.from !== p.from || r.to !== p.to || r.cpFrom !== p.cpFrom || r.cpTo !== p.cpTo);
}

/** Is `p` covered by some other visible range in `all`? */
function covered(p: PartName, ranges: readonly Range[]): boolean {
  for (const r of ranges) if (rangeCovers(r, p)) return true;
  return false;
}

/** The visible part files a reader should read (file-name order), and those a range supersedes. */
export function liveParts(fs: Fs, dir: string): { live: string[]; superseded: string[] } {
  const names = fs.readdir(dir).filter((f) => f.startsWith("part-") && f.endsWith(".jsonl"));
  const parsed = names.map((f) => [f, parsePartName(f)] as const);
  const ranges = parsed.flatMap(([, p]) => (p?.kind === "range" ? [p] : []));
  const live: string[] = [];
  const superseded: string[] = [];
  for (const [f, p] of parsed) (p && covered(p, ranges) ? superseded : live).push(f);
  return { live, superseded };
}

/** Is this transaction inside a visible range (compacted after its commit)? */
export function compactedInto(fs: Fs, dir: string, txn: PartName): boolean {
  for (const f of fs.readdir(dir)) {
    const p = parsePartName(f);
    if (p?.kind === "range" && rangeCovers(p, txn)) return true;
  }
  return false;
}

/** Every committed line under `dir`, in file-name order: what a downstream reader would see. */
export function readCommittedLines(fs: Fs, uriOrDir: string): string[] {
  const dir = pathFromUri(uriOrDir);
  const out: string[] = [];
  const dec = new TextDecoder();
  for (const f of liveParts(fs, dir).live) {
    for (const line of dec.decode(fs.readFile(path.join(dir, f))).split("\n")) if (line) out.push(line);
  }
  return out;
}
