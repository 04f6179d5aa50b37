import { parseArgs, UsageError } from "../args.ts";

/**
 * `flinch bench [--json]`: the flags are checked before bench/index.ts loads, so `bench --bogus`
 * is exit 2 at once and not a minutes-long benchmark.
 */
export async function benchCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { values: [], booleans: ["json"] });
  if (a.positional.length) throw new UsageError(`bench takes no arguments (got ${a.positional.join(" ")})`);
  return (await import("../../bench/index.ts")).benchCommand(argv);
}
