import { loadFixtures } from "../../sim/binance/fixtures.ts";
import { generateTape } from "../../sim/binance/generator.ts";
import { startExchangeServer } from "../../sim/binance/server/server.ts";
import type { Pace } from "../../sim/binance/server/exchange.ts";
import { all, int, parseArgs, str, UsageError } from "../args.ts";
import { inputFile } from "../paths.ts";

/**
 * `flinch serve [--fixture F]... | [--seed S] [--symbols A,B] [--minutes N] [--speed max|1x|Nx] [--host 127.0.0.1] [--port 0]`
 * Serves a tape as the Binance stream + REST endpoints until SIGINT/SIGTERM; prints the URLs.
 */
export async function serveCommand(argv: string[]): Promise<number> {
  try {
    const a = parseArgs(argv, { values: ["fixture", "seed", "symbols", "minutes", "speed", "host", "port"], booleans: [] });
    if (a.positional.length) throw new UsageError(`unexpected argument ${a.positional[0]}`);
    const fixtures = all(a, "fixture");
    const seed = str(a, "seed");
    for (const f of fixtures) inputFile(f, "--fixture");
    // A generated tape is built in memory before serving: a day is plenty, and bounds the wait.
    const minutes = int(a, "minutes", 10, 1, 24 * 60);
    const wanted = (str(a, "symbols") ?? "BTCUSDT,ETHUSDT").split(",").map((s) => s.trim().toUpperCase());
    for (const s of wanted) if (!/^[A-Z0-9]{1,20}$/.test(s)) throw new UsageError(`--symbols: ${JSON.stringify(s)} is not a symbol (letters and digits, like BTCUSDT)`);
    if (fixtures.length && seed !== undefined) throw new UsageError("give --fixture or --seed, not both");
    const pace = parsePace(str(a, "speed") ?? "max");
    const port = int(a, "port", 0, 0, 65535);
    const tape = fixtures.length
      ? loadFixtures(fixtures)
      : generateTape({ seed: seed ?? "flinch", symbols: wanted, durationMs: minutes * 60_000 });
    const server = await startExchangeServer({ tape, pace, host: str(a, "host") ?? "127.0.0.1", port, seed });
    const symbols = tape.symbols.map((s) => s.toLowerCase());
    console.log(`flinch serve: ${tape.stats.trades} trades of ${tape.symbols.join(", ")} at ${pace === "max" ? "max pace" : `${pace.speed}x`}`);
    console.log(`ws   ${server.wsUrl}/ws/${symbols[0]}@trade`);
    console.log(`ws   ${server.wsUrl}/stream?streams=${symbols.map((s) => `${s}@trade`).join("/")}`);
    console.log(`http ${server.httpUrl}/api/v3/historicalTrades?symbol=${tape.symbols[0]}&fromId=${tape.bySymbol.get(tape.symbols[0])?.[0]?.id ?? 0}&limit=1000`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await server.close();
    return 0;
  } catch (e) {
    if ((e as { exitCode?: unknown } | null)?.exitCode === 2) {
      console.error(`flinch serve: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
}

export function parsePace(s: string): Pace {
  if (s === "max") return "max";
  const m = /^(\d+(?:\.\d+)?)x$/.exec(s);
  if (!m || Number(m[1]) <= 0) throw new UsageError(`--speed: ${JSON.stringify(s)} is not max, 1x or Nx`);
  return { speed: Number(m[1]) };
}
