import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Paths the user gave, checked before any work starts: an input must be a regular file (a FIFO
 * or a device would block the read for ever), an output must be a place flinch can write.
 * Every failure is one line naming the flag and the path, exit 2.
 *
 * Why the output directory is created here, one level at a time: Node's
 * `mkdirSync(p, { recursive: true })` never returns for a path under /proc (the kernel answers
 * ENOENT for a parent that exists, and the recursive walk retries it for ever). That is the
 * `--out /proc/x` hang of replay and chaos; a plain mkdir fails at once instead.
 */
export class InputError extends Error {
  override readonly name = "InputError";
  readonly exitCode = 2;
}

const REASONS: Record<string, string> = {
  ENOENT: "does not exist",
  ENOTDIR: "a part of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EEXIST: "already exists",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
};

function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  return (code && REASONS[code]) || (e as Error).message;
}

function label(p: string, flag: string | undefined): string {
  return flag ? `${flag} ${p}` : p;
}

function statOf(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (e) {
    // ENOTDIR: a file stands where a folder of the path should be; the callers walk up to name it.
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new InputError(`${p}: ${reason(e)}`);
  }
}

function kind(st: fs.Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSocket()) return "a socket";
  if (st.isFile()) return "a file";
  return "not a regular file";
}

/** An input file: it exists, is a regular file, and can be read. */
export function inputFile(p: string, flag?: string): string {
  const st = statOf(p);
  if (!st) throw new InputError(`${label(p, flag)}: no such file`);
  if (!st.isFile()) throw new InputError(`${label(p, flag)}: is ${kind(st)}, not a file`);
  try {
    fs.accessSync(p, fs.constants.R_OK);
  } catch (e) {
    throw new InputError(`${label(p, flag)}: cannot read: ${reason(e)}`);
  }
  return p;
}

/** An input directory (a run directory for `report`): it exists and is a directory. */
export function inputDir(p: string, flag?: string): string {
  const st = statOf(p);
  if (!st) throw new InputError(`${label(p, flag)}: no such directory`);
  if (!st.isDirectory()) throw new InputError(`${label(p, flag)}: is ${kind(st)}, not a directory`);
  return p;
}

/** Writing a file and removing it is the only test that root, read-only mounts and /proc all answer truly. */
function probeWritable(dir: string, what: string): void {
  const probe = path.join(dir, `.flinch-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, "");
    fs.rmSync(probe, { force: true });
  } catch (e) {
    throw new InputError(`${what}: cannot write in ${dir}: ${reason(e)}`);
  }
}

/**
 * An output directory (reports go into a new folder under it): an existing directory, or one
 * that flinch creates now under an existing one; either way writable.
 */
export function outputDir(p: string, flag: string): string {
  const what = label(p, flag);
  const abs = path.resolve(p);
  const missing: string[] = [];
  let at = abs;
  let st = statOf(at);
  while (!st) {
    missing.unshift(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
    st = statOf(at);
  }
  if (st && !st.isDirectory()) {
    throw new InputError(at === abs ? `${what}: is ${kind(st)}, not a directory` : `${what}: ${at} is ${kind(st)}, not a directory`);
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EEXIST") continue;
      // ENOENT for a directory whose parent exists: a file system that holds no new entries (/proc, /sys).
      throw new InputError(`${what}: cannot create ${d}: ${code === "ENOENT" ? "the file system does not allow it" : reason(e)}`);
    }
  }
  probeWritable(abs, what);
  return p;
}

/** An output file: if it exists it is a regular file (overwritten); its directory exists and is writable. */
export function outputFile(p: string, flag: string): string {
  const what = label(p, flag);
  const st = statOf(p);
  if (st && !st.isFile()) throw new InputError(`${what}: is ${kind(st)}, not a file`);
  const parent = path.dirname(path.resolve(p));
  const pst = statOf(parent);
  if (!pst) throw new InputError(`${what}: directory ${parent} does not exist`);
  if (!pst.isDirectory()) throw new InputError(`${what}: ${parent} is ${kind(pst)}, not a directory`);
  probeWritable(parent, what);
  return p;
}
