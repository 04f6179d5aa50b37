import { parseDuration } from "../engine/api/time.ts";

/**
 * A small, strict argument parser: unknown flags and missing values are usage errors (exit 2)
 * that name the flag, because a misspelt flag silently ignored is a wrong run.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
}

export interface ParsedArgs {
  positional: string[];
  /** Last value of each flag given (true for booleans). */
  flags: Map<string, string | true>;
  /** Every value of each value flag, in order (for repeatable flags such as --fixture). */
  lists: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], spec: { values: readonly string[]; booleans: readonly string[] }): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
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
      lists.set(name, [...(lists.get(name) ?? []), v]);
    } else {
      throw new UsageError(`unknown flag --${name}`);
    }
  }
  return { positional, flags, lists };
}

export function all(a: ParsedArgs, name: string): string[] {
  return a.lists.get(name) ?? [];
}

/** A duration flag in Flink's syntax ("500ms", "10 s", "1m", "1h", or plain ms), via the engine's parser. */
export function duration(a: ParsedArgs, name: string): number | undefined {
  const v = str(a, name);
  if (v === undefined) return undefined;
  try {
    return parseDuration(v, `--${name}`);
  } catch {
    throw new UsageError(`--${name}: expected a duration like 1m, 30s, 500ms, 1h; got ${JSON.stringify(v)}`);
  }
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

/** A window size: a duration of at least 1 ms, in whole ms. */
export function windowMs(a: ParsedArgs, name: string, def: number): number {
  const d = duration(a, name) ?? def;
  if (!Number.isInteger(d) || d < 1) throw new UsageError(`--${name}: a window must be a whole number of ms >= 1, got ${str(a, name)}`);
  return d;
}

/** A run id that sorts by time and says what ran: CLI only (engine/ never reads the wall clock). */
export function runId(command: string, name: string, seed: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${t}-${command}-${name}-s${seed}`.replace(/[^A-Za-z0-9_.-]+/g, "_");
}
