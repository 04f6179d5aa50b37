/**
 * SimFs: the simulated disk, with the crash model of Jepsen's LazyFS. What it can do:
 * - File data written by writeFile/appendFile is volatile until fsync(path) of that file.
 * - Directory-entry changes (a created file, mkdir, rename, unlink, rmrf) are volatile until
 *   fsyncDir of the directory they change. A rename within one directory is one change. A rename
 *   between two directories is two, as POSIX leaves it: the new name (a link in the destination)
 *   and then the removal of the old one (in the source), each durable only by fsyncDir of its own
 *   directory. So after a power loss such a rename may have left both names, or, if only the
 *   source was fsynced, neither (ext4 would commit both with either fsync; POSIX promises less, and
 *   a missing fsync of the destination is a finding).
 * - crash() is power loss. Unsynced entry changes form an ordered journal of which a seeded prefix
 *   (possibly empty) survives; a rename within one directory, or an rmrf, survives or reverts
 *   whole; whatever lies in a directory that did not survive vanishes. Each surviving file with
 *   unsynced data either reverts to its last fsynced contents, or is TORN: it keeps its bytes in
 *   common with the synced contents plus a seeded prefix (at least 1 byte, never all) of the
 *   unsynced ones. Mode "lose-all" drops every unsynced change and draws nothing.
 * - Injected faults (`DiskFault`, plain data): ENOSPC once a byte budget of writes is spent (the
 *   bytes that fit are written, a short write); EIO on read, write or fsync/fsyncDir (every
 *   matching call, or only the n-th); one flipped bit in a file's stored (fsynced) contents; an
 *   fsync/fsyncDir that lies (returns, persists nothing). Faults stay armed across crashes until clear().
 * It cannot: reorder or tear other than by a prefix, lose fsynced data (bar a bit flip), corrupt
 * data in flight, or fail mkdirp, rename, unlink or rmrf. Randomness: only the Rng it is given.
 */
import * as path from "node:path";
import type { Rng } from "../../engine/kernel/rng.ts";
import type { Fs } from "../../engine/state/fs.ts";

/** A fault to inject; `path` (except for bitflip) is a substring of the affected path, absent = any. */
export type DiskFault =
  | { readonly kind: "enospc"; readonly path?: string; readonly afterBytes?: number }
  /**
   * The `occurrence`-th matching call fails (no occurrence: every one). With `times`, an
   * intermittent fault: the `every`-th matching call after each failure fails too (default 1, the
   * next), `times` failures in all. A degraded disk fails now and then, with successes between.
   */
  | { readonly kind: "eio"; readonly op: "read" | "write" | "fsync"; readonly path?: string; readonly occurrence?: number; readonly times?: number; readonly every?: number }
  | { readonly kind: "bitflip"; readonly path: string; readonly offset?: number; readonly bit?: number }
  | { readonly kind: "lying-fsync"; readonly path?: string }
  /** At the next power loss, a matching file with unsynced data is torn (keeps part of it) / loses it all, instead of a seeded choice. */
  | { readonly kind: "torn"; readonly path?: string }
  | { readonly kind: "lost"; readonly path?: string };

/** What a crash destroyed; `bytes` counts the unsynced bytes of a file, `kept` those a tear left. */
export interface CrashReport {
  readonly lost: { readonly path: string; readonly bytes: number }[];
  readonly torn: { readonly path: string; readonly bytes: number; readonly kept: number }[];
  /** Unsynced directory-entry changes the crash undid, in order ("rename /a -> /b", "create /c"). */
  readonly reverted: string[];
  /** Files visible before the crash and gone after it. */
  readonly vanished: string[];
}

export type CrashMode = "seeded" | "lose-all";

export interface SimFsOptions {
  /** Chance that a file with at least 2 unsynced bytes is torn rather than reverted. Default 0.5. */
  readonly tearProbability?: number;
}

type EntryOp =
  | { readonly op: "create"; readonly path: string; readonly ino: number }
  | { readonly op: "mkdir"; readonly path: string }
  | { readonly op: "unlink"; readonly path: string }
  | { readonly op: "rmrf"; readonly path: string }
  | { readonly op: "rename"; readonly from: string; readonly to: string; readonly ino: number };

type Tree = { readonly files: Map<string, number>; readonly dirs: Set<string> };
/** The arrays are never mutated in place, so clones may share them. */
type Inode = { data: Uint8Array; synced: Uint8Array };
type Armed = { readonly fault: DiskFault; seen: number; spent: number };

/** The absolute, normal form of a path; paths the engine builds are normal already, which is checked without path.resolve (a hot call). */
const norm = (p: string): string => (p.charCodeAt(0) === 47 && p.length > 1 && !p.endsWith("/") && !p.includes("//") && !p.includes("/.") ? p : path.resolve("/", p));
const emptyTree = (): Tree => ({ files: new Map(), dirs: new Set(["/"]) });
const copyTree = (t: Tree): Tree => ({ files: new Map(t.files), dirs: new Set(t.dirs) });
const under = (p: string, root: string): boolean => p === root || p.startsWith(root === "/" ? "/" : root + "/");
/** Whether op `o` changes an entry of directory `d` (fsyncDir runs it over the whole journal: no arrays, no path.dirname). */
const inDir = (o: EntryOp, d: string): boolean => (o.op === "rename" ? parentIs(o.from, d) || parentIs(o.to, d) : parentIs(o.path, d));
const parentIs = (p: string, d: string): boolean => (d === "/" ? p.lastIndexOf("/") === 0 && p.length > 1 : p.length > d.length + 1 && p.charCodeAt(d.length) === 47 && p.startsWith(d) && p.indexOf("/", d.length + 1) < 0);
const opPaths = (o: EntryOp): string[] => (o.op === "rename" ? [o.from, o.to] : [o.path]);
const touches = (o: EntryOp, p: string): boolean => (o.op === "rmrf" ? under(p, o.path) : opPaths(o).includes(p));
const conflicts = (a: EntryOp, b: EntryOp): boolean => opPaths(a).some((p) => touches(b, p)) || opPaths(b).some((p) => touches(a, p));

const NONE_ARMED: readonly never[] = [];
const fsError = (code: string, msg: string): Error => Object.assign(new Error(`${code}: ${msg}`), { code });

function applyOp(t: Tree, o: EntryOp): void {
  switch (o.op) {
    case "create": t.files.set(o.path, o.ino); break;
    case "mkdir": t.dirs.add(o.path); break;
    case "unlink": t.files.delete(o.path); break;
    case "rename": t.files.delete(o.from); t.files.set(o.to, o.ino); break;
    case "rmrf":
      for (const f of [...t.files.keys()]) if (under(f, o.path)) t.files.delete(f);
      for (const d of [...t.dirs]) if (d !== "/" && under(d, o.path)) t.dirs.delete(d);
  }
}

type EioFault = Extract<DiskFault, { kind: "eio" }>;

/** An EIO fault that fails more than one call, with successes between. */
export const intermittent = (f: DiskFault): f is EioFault & { occurrence: number; times: number } =>
  f.kind === "eio" && f.occurrence !== undefined && (f.times ?? 1) > 1;

/** Whether an EIO fault fails the n-th matching call (1-based): see DiskFault. */
const eioFails = (f: EioFault, n: number): boolean => {
  if (f.occurrence === undefined) return true;
  const k = n - f.occurrence, every = f.every ?? 1;
  return k >= 0 && k % every === 0 && k / every < (f.times ?? 1);
};

/** The last matching call an EIO fault with an occurrence fails. */
const lastFailing = (f: EioFault & { occurrence: number }): number => f.occurrence + (f.every ?? 1) * ((f.times ?? 1) - 1);

export function describeDiskFault(f: DiskFault): string {
  const at = f.path === undefined ? "" : ` ${JSON.stringify(f.path)}`;
  switch (f.kind) {
    case "enospc": return `enospc${at} after ${f.afterBytes ?? 0} bytes`;
    case "eio": return `eio ${f.op}${at}${f.occurrence === undefined ? "" : ` #${f.occurrence}`}${intermittent(f) ? `, ${f.times} times, every ${f.every ?? 1} calls` : ""}`;
    case "bitflip": return `bitflip${at}${f.offset === undefined ? "" : ` byte ${f.offset}`}${f.bit === undefined ? "" : ` bit ${f.bit}`}`;
    case "lying-fsync": case "torn": case "lost": return `${f.kind}${at}`;
  }
}

export function describeCrash(r: CrashReport): string {
  const parts = [
    ...r.lost.map((l) => `lost ${l.bytes} unsynced bytes of ${l.path}`),
    ...r.torn.map((t) => `tore ${t.path}: kept ${t.kept} of ${t.bytes} unsynced bytes`),
    ...r.reverted.map((e) => `undid ${e}`),
    ...r.vanished.map((v) => `${v} vanished`),
  ];
  return parts.length ? parts.join("; ") : "nothing lost";
}

export class SimFs implements Fs {
  private live = emptyTree();
  private durable = emptyTree();
  private journal: EntryOp[] = [];
  private inodes = new Map<number, Inode>();
  private nextIno = 1;
  private faults: Armed[] = [];
  /** How many injected ENOSPC / EIO errors were thrown (the nemesis heals the disk after one). */
  tripped = 0;
  /** The armed fault behind each of those errors, in order (the nemesis reports each as fired). */
  readonly trips: DiskFault[] = [];

  /**
   * Told of every call that changes the disk (write, append, mkdir, rename, unlink, rmrf, fsync,
   * fsyncDir), before it happens, with its path: the nemesis counts them as the fault point
   * `fs.write` and may kill the process there, between two calls of one write sequence.
   */
  onChange?: (path: string) => void;

  constructor(private readonly rng: Rng, private readonly opts: SimFsOptions = {}) {}

  mkdirp(dir: string): void {
    this.onChange?.(dir);
    const missing: string[] = [];
    for (let d = norm(dir); !this.live.dirs.has(d); d = path.dirname(d)) {
      if (this.live.files.has(d)) throw fsError("ENOTDIR", `not a directory, mkdir '${d}'`);
      missing.unshift(d);
    }
    for (const d of missing) this.change({ op: "mkdir", path: d });
  }
  writeFile(p: string, data: Uint8Array): void {
    this.onChange?.(p);
    this.write(norm(p), data, (_old, chunk) => chunk.slice());
  }
  appendFile(p: string, data: Uint8Array): void {
    this.onChange?.(p);
    this.write(norm(p), data, (old, chunk) => {
      const out = new Uint8Array(old.length + chunk.length);
      out.set(old);
      out.set(chunk, old.length);
      return out;
    });
  }
  readFile(p: string): Uint8Array {
    this.eio("read", norm(p));
    return this.node(norm(p), "open").data.slice();
  }
  /** Not a copy (a write replaces a file's bytes, never changes them in place): the caller only reads. */
  peekFile(p: string): Uint8Array {
    return this.node(norm(p), "open").data;
  }
  exists(p: string): boolean {
    return this.live.files.has(norm(p)) || this.live.dirs.has(norm(p));
  }
  readdir(dir: string): string[] {
    const d = norm(dir);
    const prefix = d === "/" ? "/" : d + "/";
    const out = new Set<string>();
    for (const k of [...this.live.files.keys(), ...this.live.dirs]) {
      if (k !== d && k.startsWith(prefix)) out.add(k.slice(prefix.length).split("/")[0]);
    }
    return [...out].sort();
  }
  rename(from: string, to: string): void {
    this.onChange?.(to);
    const f = norm(from);
    const t = norm(to);
    const ino = this.live.files.get(f);
    if (ino === undefined) throw fsError("ENOENT", `no such file, rename '${from}' -> '${to}'`);
    if (!this.live.dirs.has(path.dirname(t))) throw fsError("ENOENT", `no such directory, rename '${from}' -> '${to}'`);
    if (this.live.dirs.has(t)) throw fsError("EISDIR", `illegal operation on a directory, rename '${from}' -> '${to}'`);
    if (f === t) return;
    if (path.dirname(f) === path.dirname(t)) this.change({ op: "rename", from: f, to: t, ino });
    else {
      this.change({ op: "create", path: t, ino });
      this.change({ op: "unlink", path: f });
    }
  }
  unlink(p: string): void {
    this.onChange?.(p);
    const n = norm(p);
    if (this.live.files.has(n)) this.change({ op: "unlink", path: n });
  }
  rmrf(p: string): void {
    this.onChange?.(p);
    const n = norm(p);
    if (this.exists(n)) this.change({ op: "rmrf", path: n });
  }
  fsync(p: string): void {
    this.onChange?.(p);
    const n = norm(p);
    this.eio("fsync", n);
    const node = this.node(n, "fsync");
    if (!this.lies(n)) node.synced = node.data;
  }
  fsyncDir(dir: string): void {
    this.onChange?.(dir);
    const d = norm(dir);
    this.eio("fsync", d);
    if (!this.live.dirs.has(d)) throw fsError("ENOENT", `no such directory, fsync '${dir}'`);
    if (this.lies(d)) return;
    // Ops in d persist, and so does every earlier op on the same names, so no order inverts.
    const persist: EntryOp[] = [];
    for (let i = this.journal.length - 1; i >= 0; i--) {
      const o = this.journal[i];
      if (inDir(o, d) || persist.some((l) => conflicts(o, l))) persist.push(o);
    }
    if (persist.length === 0) return;
    for (const o of persist.reverse()) applyOp(this.durable, o);
    const done = new Set(persist);
    this.journal = this.journal.filter((o) => !done.has(o));
  }

  /** Arms a fault; a bit flip happens at once. Returns what was done, for the report. */
  inject(fault: DiskFault): string {
    if (fault.kind !== "bitflip") {
      this.faults.push({ fault, seen: 0, spent: 0 });
      return describeDiskFault(fault);
    }
    const p = norm(fault.path);
    const node = this.node(p, "bitflip");
    const stored = node.synced;
    if (stored.length === 0) throw fsError("EINVAL", `bitflip: '${p}' has no stored bytes`);
    const offset = fault.offset ?? this.rng.int(stored.length);
    const bit = fault.bit ?? this.rng.int(8);
    if (offset < 0 || offset >= stored.length || bit < 0 || bit > 7) throw new RangeError(`bitflip: byte ${offset} bit ${bit} outside '${p}' (${stored.length} bytes)`);
    const flipped = stored.slice();
    flipped[offset] ^= 1 << bit;
    if (node.data === stored) node.data = flipped;
    node.synced = flipped;
    return `bitflip ${p} byte ${offset} bit ${bit}`;
  }
  /** Every file path on the disk as the running process sees it, sorted. */
  files(): string[] {
    return [...this.live.files.keys()].sort();
  }

  /** Disarms every fault (a bit flip stays flipped). */
  clear(): void {
    this.faults = [];
  }

  /**
   * Heals a full disk and one-off I/O errors, but not an intermittent fault with failures still
   * due: it is the disk's nature, not a spell the job waits out (it ends after its `times`).
   */
  healTransient(): void {
    this.faults = this.faults.filter((a) => {
      const f = a.fault;
      if (f.kind === "enospc") return false;
      if (f.kind !== "eio") return true;
      return intermittent(f) && a.seen < lastFailing(f);
    });
  }

  /** Power loss: see the header. Afterwards everything on the disk is durable. */
  crash(mode: CrashMode = "seeded"): CrashReport {
    const before = [...this.live.files.keys()];
    const keep = mode === "lose-all" ? 0 : this.rng.int(this.journal.length + 1);
    const tree = copyTree(this.durable);
    for (const o of this.journal.slice(0, keep)) applyOp(tree, o);
    const reverted = this.journal.slice(keep).map((o) => (o.op === "rename" ? `rename ${o.from} -> ${o.to}` : `${o.op} ${o.path}`));
    for (const d of [...tree.dirs].sort((a, b) => a.length - b.length)) if (d !== "/" && !tree.dirs.has(path.dirname(d))) tree.dirs.delete(d);
    for (const f of [...tree.files.keys()]) if (!tree.dirs.has(path.dirname(f))) tree.files.delete(f);
    const report: CrashReport = { lost: [], torn: [], reverted, vanished: before.filter((p) => !tree.files.has(p)) };
    const inodes = new Map<number, Inode>();
    for (const [p, ino] of [...tree.files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (inodes.has(ino)) continue;
      const data = this.settle(p, this.inodes.get(ino)!, mode, report);
      inodes.set(ino, { data, synced: data });
    }
    this.inodes = inodes;
    this.live = tree;
    this.durable = copyTree(tree);
    this.journal = [];
    return report;
  }

  /** An independent copy, volatile state and armed faults included, drawing from `rng`. */
  clone(rng: Rng): SimFs {
    const c = new SimFs(rng, this.opts);
    c.live = copyTree(this.live);
    c.durable = copyTree(this.durable);
    c.journal = this.journal.slice();
    for (const [ino, n] of this.inodes) c.inodes.set(ino, { data: n.data, synced: n.synced });
    c.nextIno = this.nextIno;
    c.faults = this.faults.map((a) => ({ ...a }));
    return c;
  }

  /** What a crash that loses every unsynced change would leave: file path -> bytes, and the directories. */
  durableSnapshot(): { files: Map<string, Uint8Array>; dirs: string[] } {
    const c = this.clone(this.rng); // "lose-all" draws nothing
    c.crash("lose-all");
    const files = new Map<string, Uint8Array>();
    for (const [p, ino] of c.live.files) files.set(p, c.inodes.get(ino)!.data);
    return { files, dirs: [...c.live.dirs].sort() };
  }

  private settle(p: string, node: Inode, mode: CrashMode, report: CrashReport): Uint8Array {
    const { data, synced } = node;
    if (data === synced) return synced;
    let common = 0;
    while (common < Math.min(data.length, synced.length) && data[common] === synced[common]) common++;
    const unsynced = data.length - common;
    if (unsynced === 0 && data.length === synced.length) return synced;
    // A forced tear or loss (an injected fault) replaces the seeded choice; the draw is made anyway so other files see the same stream.
    const chance = mode === "seeded" && unsynced >= 2 ? this.rng.chance(this.opts.tearProbability ?? 0.5) : false;
    const forced = this.armed("torn", p).length ? "torn" : this.armed("lost", p).length ? "lost" : undefined;
    if (mode === "seeded" && unsynced >= 2 && (forced === "torn" || (forced === undefined && chance))) {
      const kept = this.rng.range(1, unsynced - 1);
      report.torn.push({ path: p, bytes: unsynced, kept });
      return data.slice(0, common + kept);
    }
    report.lost.push({ path: p, bytes: unsynced });
    return synced;
  }

  private change(o: EntryOp): void {
    applyOp(this.live, o);
    this.journal.push(o);
  }

  private node(p: string, what: string): Inode {
    const ino = this.live.files.get(p);
    if (ino === undefined) throw fsError(this.live.dirs.has(p) ? "EISDIR" : "ENOENT", `${what} '${p}'`);
    return this.inodes.get(ino)!;
  }

  private write(p: string, data: Uint8Array, put: (old: Uint8Array, chunk: Uint8Array) => Uint8Array): void {
    this.eio("write", p);
    if (!this.live.dirs.has(path.dirname(p))) throw fsError("ENOENT", `no such directory, open '${p}'`);
    if (this.live.dirs.has(p)) throw fsError("EISDIR", `illegal operation on a directory, open '${p}'`);
    let fit = data.length;
    const budgets = this.armed("enospc", p);
    let full: Armed | undefined;
    for (const a of budgets) {
      const room = Math.max(0, ((a.fault as { afterBytes?: number }).afterBytes ?? 0) - a.spent);
      if (room < fit) (fit = room), (full = a);
    }
    for (const a of budgets) a.spent += fit;
    let ino = this.live.files.get(p);
    if (ino === undefined) {
      ino = this.nextIno++;
      const empty = new Uint8Array(0);
      this.inodes.set(ino, { data: empty, synced: empty });
      this.change({ op: "create", path: p, ino });
    }
    const node = this.inodes.get(ino)!;
    node.data = put(node.data, data.subarray(0, fit));
    if (full !== undefined) {
      this.trip(full.fault);
      throw fsError("ENOSPC", `no space left on device, write '${p}' (${fit} of ${data.length} bytes written)`);
    }
  }

  private armed(kind: DiskFault["kind"], p: string): readonly Armed[] {
    if (this.faults.length === 0) return NONE_ARMED; // the usual case: no allocation per file operation
    return this.faults.filter((a) => a.fault.kind === kind && (a.fault.path === undefined || p.includes(a.fault.path)));
  }
  private eio(op: "read" | "write" | "fsync", p: string): void {
    for (const a of this.armed("eio", p)) {
      if (a.fault.kind !== "eio" || a.fault.op !== op) continue;
      if (eioFails(a.fault, ++a.seen)) {
        this.trip(a.fault);
        throw fsError("EIO", `i/o error, ${op} '${p}'`);
      }
    }
  }
  private trip(f: DiskFault): void {
    this.tripped++;
    this.trips.push(f);
  }
  private lies(p: string): boolean {
    return this.armed("lying-fsync", p).length > 0;
  }
}
