import * as path from "node:path";
import type { Fs } from "../../engine/state/fs.ts";

/**
 * An in-memory file system: fast, isolated per run, and every write is immediately durable.
 * Chaos runs use it so thousands of runs don't touch the disk. It models no crash loss;
 * that is SimFs's job (Jepsen's LazyFS model), which builds on the same tree.
 */
export class MemFs implements Fs {
  protected readonly files = new Map<string, Uint8Array>();
  protected readonly dirs = new Set<string>(["/"]);

  private norm(p: string): string {
    return path.resolve("/", p);
  }

  mkdirp(dir: string): void {
    let d = this.norm(dir);
    while (!this.dirs.has(d)) {
      this.dirs.add(d);
      d = path.dirname(d);
    }
  }
  writeFile(p: string, data: Uint8Array): void {
    this.requireDir(path.dirname(this.norm(p)), p);
    this.files.set(this.norm(p), data.slice());
  }
  appendFile(p: string, data: Uint8Array): void {
    const cur = this.files.get(this.norm(p));
    if (!cur) return this.writeFile(p, data);
    const out = new Uint8Array(cur.length + data.length);
    out.set(cur);
    out.set(data, cur.length);
    this.files.set(this.norm(p), out);
  }
  readFile(p: string): Uint8Array {
    const f = this.files.get(this.norm(p));
    if (!f) throw Object.assign(new Error(`ENOENT: no such file: ${p}`), { code: "ENOENT" });
    return f;
  }
  exists(p: string): boolean {
    const n = this.norm(p);
    return this.files.has(n) || this.dirs.has(n);
  }
  readdir(dir: string): string[] {
    const d = this.norm(dir);
    const out = new Set<string>();
    const prefix = d === "/" ? "/" : d + "/";
    for (const k of [...this.files.keys(), ...this.dirs]) {
      if (k.startsWith(prefix) && k !== d) out.add(k.slice(prefix.length).split("/")[0]);
    }
    return [...out].sort();
  }
  rename(from: string, to: string): void {
    const f = this.files.get(this.norm(from));
    if (!f) throw Object.assign(new Error(`ENOENT: rename ${from}`), { code: "ENOENT" });
    this.requireDir(path.dirname(this.norm(to)), to);
    this.files.delete(this.norm(from));
    this.files.set(this.norm(to), f);
  }
  unlink(p: string): void {
    this.files.delete(this.norm(p));
  }
  rmrf(p: string): void {
    const n = this.norm(p);
    this.files.delete(n);
    this.dirs.delete(n);
    for (const k of [...this.files.keys()]) if (k.startsWith(n + "/")) this.files.delete(k);
    for (const k of [...this.dirs]) if (k.startsWith(n + "/")) this.dirs.delete(k);
  }
  fsync(p: string): void {
    if (!this.files.has(this.norm(p))) throw Object.assign(new Error(`ENOENT: fsync ${p}`), { code: "ENOENT" });
  }
  fsyncDir(dir: string): void {
    if (!this.dirs.has(this.norm(dir))) throw Object.assign(new Error(`ENOENT: fsync dir ${dir}`), { code: "ENOENT" });
  }
  private requireDir(d: string, p: string): void {
    if (!this.dirs.has(d)) throw Object.assign(new Error(`ENOENT: no directory for ${p}`), { code: "ENOENT" });
  }
}
