import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Beside node_modules' packages, so the bundle's bare imports (fast-check, lmdb) resolve as the sources' do. */
const CACHE = path.join(REPO, "node_modules", ".cache", "flinch");

interface Manifest {
  readonly entry: string;
  /** Every source file in the bundle, with the size and mtime it was built from. */
  readonly inputs: Record<string, string>;
}

const stamp = (file: string): string => {
  const s = fs.statSync(file);
  return `${s.size}:${s.mtimeMs}`;
};

function fresh(m: Manifest, entry: string): boolean {
  if (m.entry !== entry) return false;
  try {
    return Object.entries(m.inputs).every(([f, st]) => stamp(path.join(REPO, f)) === st);
  } catch {
    return false; // a source was removed
  }
}

/**
 * A worker thread started from the TypeScript sources (tsx, vitest) would load ~120 modules
 * through tsx's loader: about 0.4 s of CPU per thread, more than a hundred runs' worth on a short
 * campaign. Instead the thread's module graph is bundled once into one plain ES module (esbuild,
 * which tsx itself uses; npm packages stay imports), and reused while no source changed. Any
 * failure (no esbuild, a read-only node_modules) returns undefined: the caller falls back to tsx.
 * dist/ never comes here: its workers are compiled already.
 */
export async function bundledWorker(entry: URL): Promise<URL | undefined> {
  const src = fileURLToPath(entry);
  const name = path.basename(src, ".ts");
  const out = path.join(CACHE, `${name}.mjs`);
  const manifestFile = path.join(CACHE, `${name}.json`);
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Manifest;
    if (fs.existsSync(out) && fresh(m, src)) return new URL(`file://${out}`);
  } catch {
    // no bundle yet, or an unreadable one: build it
  }
  try {
    const esbuild = await import("esbuild");
    fs.mkdirSync(CACHE, { recursive: true });
    // Build beside the target and rename: concurrent builds (parallel test files) never see half a file.
    const tmp = `${out}.${process.pid}.${Date.now()}.tmp`; // real-time: a unique temporary name, nothing decided on it
    const r = await esbuild.build({ entryPoints: [src], absWorkingDir: REPO, bundle: true, format: "esm", platform: "node", target: "node20", packages: "external", outfile: tmp, metafile: true, logLevel: "silent" });
    const manifest: Manifest = { entry: src, inputs: Object.fromEntries(Object.keys(r.metafile.inputs).map((f) => [f, stamp(path.join(REPO, f))])) };
    fs.renameSync(tmp, out);
    fs.writeFileSync(`${manifestFile}.${process.pid}.tmp`, JSON.stringify(manifest));
    fs.renameSync(`${manifestFile}.${process.pid}.tmp`, manifestFile);
    return new URL(`file://${out}`);
  } catch {
    return undefined;
  }
}
