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
  exists(path: string): boolean;
  readdir(dir: string): string[];
  /** Atomic replace; the new name is durable only after fsyncDir of its directory. */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  rmrf(path: string): void;
  fsync(path: string): void;
  fsyncDir(dir: string): void;
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
  if (missing.length === 0) return;
  fs.mkdirp(dir);
  for (const m of missing.reverse()) fs.fsyncDir(nodePath.dirname(m));
}
