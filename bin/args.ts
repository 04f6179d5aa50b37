/**
 * A small, strict argument parser: unknown flags and missing values are usage errors (exit 2)
 * that name the flag, because a misspelt flag silently ignored is a wrong run.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], spec: { values: readonly string[]; booleans: readonly string[] }): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.booleans.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (spec.values.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
      flags.set(name, v);
    } else {
      throw new UsageError(`unknown flag --${name}`);
    }
  }
  return { positional, flags };
}

export function str(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function int(a: ParsedArgs, name: string, def: number, min = 0): number {
  const v = str(a, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name}: expected a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function oneOf<T extends string>(a: ParsedArgs, name: string, allowed: readonly T[], def: T): T {
  const v = str(a, name) ?? def;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name}: expected ${allowed.join("|")}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** "1m", "30s", "500ms", "1h" → ms. */
export function windowMs(a: ParsedArgs, name: string, def: number): number {
  const v = str(a, name);
  if (v === undefined) return def;
  const m = /^(\d+)(ms|s|m|h)$/.exec(v);
  if (!m || Number(m[1]) === 0) throw new UsageError(`--${name}: expected a duration like 1m, 30s, 500ms, 1h; got ${JSON.stringify(v)}`);
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
}

/** A run id that sorts by time and says what ran: CLI only (engine/ never reads the wall clock). */
export function runId(command: string, name: string, seed: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${t}-${command}-${name}-s${seed}`.replace(/[^A-Za-z0-9_.-]+/g, "_");
}
