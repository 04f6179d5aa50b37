import type { Pace } from "../../sim/binance/server/exchange.ts";
import { UsageError } from "../args.ts";

/** `--speed max|1x|Nx` of serve and replay; its own module so replay does not load the server (ws) to parse a flag. */
export function parsePace(s: string): Pace {
  if (s === "max") return "max";
  const m = /^(\d+(?:\.\d+)?)x$/.exec(s);
  if (!m || Number(m[1]) <= 0) throw new UsageError(`--speed: ${JSON.stringify(s)} is not max, 1x or Nx`);
  return { speed: Number(m[1]) };
}
