import { readFileSync } from "node:fs";

/**
 * flinch's version from its package.json: two folders up from bin/ in a clone, three from
 * dist/bin/ in an installed package. Read on demand so --version stays fast.
 */
export function version(): string {
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "flinch" && pkg.version) return pkg.version;
    } catch {
      // not this folder: try the next one up
    }
  }
  return "unknown";
}
