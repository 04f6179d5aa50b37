import * as nodeFs from "node:fs";
import * as nodePath from "node:path";

/**
 * Every durable write of checkpoint storage and sinks goes through this interface, so the
 * simulated disk (sim/faults SimFs) can keep data volatile until fsync and drop or tear it on
 * a crash. Calls are synchronous: a step of a task must not let real I/O reorder the simulation.
 */
export interface Fs {
  mkdirp(dir: string): void;
  /** Creates or replaces the file's contents; not durable until fsync(path). */
  writeFile(path: string, data: Uint8Array): void;
  appendFile(path: string, data: Uint8Array): void;
  readFile(path: string): Uint8Array;
  /**
   * Reads as an observer: no injected fault fires and no fault count moves (SimFs). A harness
   * checking a run's checkpoints while it runs reads this way, so the check cannot change the run.
   */
  peekFile?(path: string): Uint8Array;
  exists(path: string): boolean;
  readdir(dir: string): string[];
  /** Atomic replace; the new name is durable only after fsyncDir of its directory. */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  rmrf(path: string): void;
  fsync(path: string): void;
  fsyncDir(dir: string): void;
}

/** `fs` read as an observer (peekFile where it has one); every change is refused. */
export function observerView(fs: Fs): Fs {
  const refuse = (): never => {
    throw new Error("an observer's view of the disk is read-only");
  };
  return {
    readFile: (p) => (fs.peekFile ? fs.peekFile(p) : fs.readFile(p)),
    exists: (p) => fs.exists(p),
    readdir: (d) => fs.readdir(d),
    mkdirp: refuse, writeFile: refuse, appendFile: refuse, rename: refuse, unlink: refuse, rmrf: refuse, fsync: refuse, fsyncDir: refuse,
  };
}

/** The real disk. */
export class NodeFs implements Fs {
  mkdirp(dir: string): void {
    nodeFs.mkdirSync(dir, { recursive: true });
  }
  writeFile(path: string, data: Uint8Array): void {
    nodeFs.writeFileSync(path, data);
  }
  appendFile(path: string, data: Uint8Array): void {
    nodeFs.appendFileSync(path, data);
  }
  readFile(path: string): Uint8Array {
    return nodeFs.readFileSync(path);
  }
  exists(path: string): boolean {
    return nodeFs.existsSync(path);
  }
  readdir(dir: string): string[] {
    return nodeFs.existsSync(dir) ? nodeFs.readdirSync(dir).sort() : [];
  }
  rename(from: string, to: string): void {
    nodeFs.renameSync(from, to);
  }
  unlink(path: string): void {
    nodeFs.rmSync(path, { force: true });
  }
  rmrf(path: string): void {
    nodeFs.rmSync(path, { recursive: true, force: true });
  }
  fsync(path: string): void {
    const fd = nodeFs.openSync(path, "r+");
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  }
  fsyncDir(dir: string): void {
    const fd = nodeFs.openSync(dir, "r");
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  }
}

/** `file:///tmp/x` or a plain path → a filesystem path. */
export function pathFromUri(uri: string): string {
  if (uri.startsWith("file://")) return nodePath.resolve(decodeURIComponent(uri.slice("file://".length)));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error(`unsupported URI scheme in ${JSON.stringify(uri)}: only file:// and plain paths`);
  return nodePath.resolve(uri);
}

/**
 * mkdir -p, made durable: every directory it creates has its entry fsynced in its parent.
 * Without this a checkpoint or pre-committed transaction written into a fresh directory can
 * vanish with that directory in a crash, even though its own fsyncs returned.
 *
 * A directory this made whose parent's fsync then failed (EIO) exists but is not durable, and a
 * later call finds it existing: it is remembered per Fs until an fsync of its parent succeeds.
 * Otherwise a restart after that EIO writes checkpoints, and even completes a savepoint, inside a
 * directory that a power loss takes away whole (found by chaos: eio-fsync, then a kill).
 */
export function mkdirDurable(fs: Fs, dir: string): void {
  const missing: string[] = [];
  let d = nodePath.resolve(dir);
  while (!fs.exists(d)) {
    missing.push(d);
    const parent = nodePath.dirname(d);
    if (parent === d) break;
    d = parent;
  }
  let pending = notDurable.get(fs);
  if (missing.length === 0 && (pending === undefined || pending.size === 0)) return;
  // Left over from an earlier call whose fsync failed (the usual call has none).
  const earlier = pending !== undefined && pending.size > 0 ? new Set(pending) : undefined;
  if (missing.length > 0) {
    fs.mkdirp(dir);
    if (pending === undefined) notDurable.set(fs, (pending = new Set()));
    for (const m of missing) pending.add(m);
  }
  // Parents first (shorter paths), so a directory's entry is made durable only below a durable one.
  for (const m of [...pending!].sort((a, b) => a.length - b.length)) {
    if (earlier?.has(m) && !fs.exists(m)) {
      pending!.delete(m); // gone since (a crash took it, or it was removed): nothing to make durable
      continue;
    }
    fs.fsyncDir(nodePath.dirname(m));
    pending!.delete(m);
  }
}

/** Per Fs: directories mkdirDurable created whose entry is not yet known to be durable. */
const notDurable = new WeakMap<Fs, Set<string>>();
