/** Tiny flag parser shared by serve / record / convert: `--name value` pairs and positionals. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parseArgs(argv: string[], flags: readonly string[]): { opts: Map<string, string[]>; positional: string[] } {
  const opts = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!flags.includes(name)) throw new UsageError(`unknown flag --${name} (known: ${flags.map((f) => `--${f}`).join(", ")})`);
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      opts.set(name, [...(opts.get(name) ?? []), v]);
    } else positional.push(a);
  }
  return { opts, positional };
}

/** "500ms", "10s", "5m", "1h" or plain milliseconds. */
export function parseDuration(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s);
  if (!m) throw new UsageError(`${flag}: ${JSON.stringify(s)} is not a duration (e.g. 500ms, 10s, 5m, 1h)`);
  const k = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "ms") as "ms"];
  return Number(m[1]) * k;
}
