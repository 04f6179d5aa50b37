import { loadFixtures } from "../../sim/binance/fixtures.ts";
import { generateTape } from "../../sim/binance/generator.ts";
import { startExchangeServer, type ExchangeServer } from "../../sim/binance/server/server.ts";
import { END_OF_TAPE } from "../../sim/binance/server/exchange.ts";
import { parsePace } from "./pace.ts";
import { all, int, parseArgs, str, UsageError } from "../args.ts";
import { inputFile } from "../paths.ts";

/**
 * `flinch serve [--fixture F]... | [--seed S] [--symbols A,B] [--minutes N] [--speed max|1x|Nx] [--loop] [--host 127.0.0.1] [--port 0]`
 * Serves a tape as the Binance stream + REST endpoints until SIGINT/SIGTERM; prints the URLs.
 * The market starts with the first client and runs on its own clock; at the end of the tape
 * the stream connections are closed with 1000 "end of tape" (a line on stdout says so), or with
 * --loop the tape plays again with ids and times continuing.
 */
export async function serveCommand(argv: string[]): Promise<number> {
  let server: ExchangeServer;
  try {
    server = await startServe(argv);
  } catch (e) {
    if ((e as { exitCode?: unknown } | null)?.exitCode === 2) {
      console.error(`flinch serve: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  return 0;
}

/** Parses serve's arguments, starts the server and prints its URLs with `log`; the caller closes it. */
export async function startServe(argv: string[], log: (line: string) => void = (l) => console.log(l)): Promise<ExchangeServer> {
  const a = parseArgs(argv, { values: ["fixture", "seed", "symbols", "minutes", "speed", "host", "port"], booleans: ["loop"] });
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
  const loop = a.flags.get("loop") === true;
  const server = await startExchangeServer({ tape, pace, host: str(a, "host") ?? "127.0.0.1", port, seed, endOfTape: loop ? "loop" : "close" });
  server.core.exchange.onEnd = () => log(`flinch serve: end of tape after ${tape.stats.trades} trades; stream connections close with ${END_OF_TAPE.code} "${END_OF_TAPE.reason}" once sent everything; REST keeps answering`);
  const symbols = tape.symbols.map((s) => s.toLowerCase());
  log(`flinch serve: ${tape.stats.trades} trades of ${tape.symbols.join(", ")} at ${pace === "max" ? "max pace" : `${pace.speed}x`}${loop ? ", looping" : ""}; the market starts with the first client`);
  log(`ws   ${server.wsUrl}/ws/${symbols[0]}@trade`);
  log(`ws   ${server.wsUrl}/stream?streams=${symbols.map((s) => `${s}@trade`).join("/")}`);
  log(`http ${server.httpUrl}/api/v3/historicalTrades?symbol=${tape.symbols[0]}&fromId=${tape.bySymbol.get(tape.symbols[0])?.[0]?.id ?? 0}&limit=1000`);
  log(`http ${server.httpUrl}/api/v3/klines?symbol=${tape.symbols[0]}&interval=1m`);
  return server;
}
