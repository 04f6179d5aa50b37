import { parseArgs as nodeParseArgs } from "node:util";
import { parseDuration } from "../engine/api/time.ts";
import { closest } from "./suggest.ts";

/**
 * Bad usage (exit 2, one line). The parser is strict: unknown flags and missing values are
 * usage errors that name the flag, because a misspelt flag silently ignored is a wrong run.
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

export interface FlagSpec {
  values: readonly string[];
  booleans: readonly string[];
}

/**
 * Node's own `util.parseArgs` in strict mode (no dependency, `--flag=value` and `--` handled the
 * standard way), with its errors turned into one-line usage errors that name the flag and
 * suggest the closest known one. `--help`/`-h` and `--debug` never reach here: bin/main.ts takes
 * them first, so that help never starts work.
 */
export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; multiple: true }> = {};
  for (const v of spec.values) options[v] = { type: "string", multiple: true };
  for (const b of spec.booleans) options[b] = { type: "boolean", multiple: true };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    throw flagError(e as Error & { code?: string }, spec);
  }
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (const [name, v] of Object.entries(parsed.values)) {
    const vs = v as (string | boolean)[];
    if (spec.booleans.includes(name)) flags.set(name, true);
    else {
      lists.set(name, vs as string[]);
      flags.set(name, vs[vs.length - 1] as string);
    }
  }
  return { positional: parsed.positionals, flags, lists };
}

function flagError(e: Error & { code?: string }, spec: FlagSpec): Error {
  const flag = /'(-{1,2}[^'\s<]*)/.exec(e.message)?.[1] ?? "?";
  const known = [...spec.values, ...spec.booleans].map((n) => `--${n}`);
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const guess = closest(flag, known);
      return new UsageError(`unknown flag ${flag}${guess ? ` (did you mean ${guess}?)` : known.length ? `; flags: ${known.sort().join(" ")}` : "; this command takes no flags"}`);
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/does not take an argument/.test(e.message)) return new UsageError(`${flag} takes no value`);
      if (/ambiguous/.test(e.message)) return new UsageError(`${flag} needs a value (for a value starting with "-", write ${flag}=VALUE)`);
      return new UsageError(`${flag} needs a value`);
    default:
      return new UsageError(e.message.split("\n")[0]);
  }
}

export function all(a: ParsedArgs, name: string): string[] {
  return a.lists.get(name) ?? [];
}

/**
 * A duration flag in Flink's syntax ("500ms", "10 s", "1m", "1h", or plain ms), via the engine's
 * parser, but exact: a value that is not a whole number of milliseconds is refused, not rounded
 * (the engine's parser rounds "0.5ms" to 1 ms), and so is one above `maxMs`.
 */
export function duration(a: ParsedArgs, name: string, maxMs: number = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(a, name);
  if (v === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(v, `--${name}`);
  } catch {
    throw new UsageError(`--${name}: expected a duration like 1m, 30s, 500ms, 1h; got ${JSON.stringify(v)}`);
  }
  // The same text, in exact decimal arithmetic: the engine's unit of 1 <unit> times the digits.
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([a-zA-Z]*)\s*$/.exec(v)!;
  const unit = BigInt(parseDuration(`1${m[3]}`, `--${name}`));
  const frac = m[2] ?? "";
  const scaled = BigInt(m[1] + frac) * unit;
  const denom = 10n ** BigInt(frac.length);
  if (scaled % denom !== 0n) throw new UsageError(`--${name}: ${JSON.stringify(v)} is not a whole number of milliseconds`);
  if (scaled / denom > BigInt(maxMs)) throw new UsageError(`--${name}: ${JSON.stringify(v)} is too long (at most ${formatMs(maxMs)})`);
  return ms;
}

function formatMs(ms: number): string {
  for (const [u, n] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

export function str(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

/** A whole-number flag in [min, max]: digits only (no "1e3", "0x10", "" or " 5"). */
export function int(a: ParsedArgs, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = str(a, name);
  if (v === undefined) return def;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a whole number ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** `--seed`, the same rule in every command: a whole number that fits fast-check's 32-bit seed. */
export function seed(a: ParsedArgs, def: number): number {
  return int(a, "seed", def, 0, 0xffff_ffff);
}

export function oneOf<T extends string>(a: ParsedArgs, name: string, allowed: readonly T[], def: T): T {
  const v = str(a, name) ?? def;
  if (!(allowed as readonly string[]).includes(v)) {
    const guess = closest(v, allowed);
    throw new UsageError(`--${name}: expected ${allowed.join("|")}, got ${JSON.stringify(v)}${guess ? ` (did you mean ${guess}?)` : ""}`);
  }
  return v as T;
}

/** The longest window a flag may ask for: a year (longer ones only overflow the engine's time arithmetic). */
export const MAX_WINDOW_MS = 366 * 86_400_000;

/** A window size: a whole number of ms from 1 ms to MAX_WINDOW_MS. */
export function windowMs(a: ParsedArgs, name: string, def: number): number {
  const d = duration(a, name, MAX_WINDOW_MS) ?? def;
  if (d < 1) throw new UsageError(`--${name}: a window must be at least 1ms, got ${JSON.stringify(str(a, name))}`);
  return d;
}

/** A run id that sorts by time and says what ran: CLI only (engine/ never reads the wall clock). */
export function runId(command: string, name: string, seed: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `${t}-${command}-${name}-s${seed}`.replace(/[^A-Za-z0-9_.-]+/g, "_");
}
