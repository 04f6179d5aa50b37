import { generateTape } from "../../sim/binance/generator.ts";
import { buildTape, tapeTrades, type Tape } from "../../sim/binance/tape.ts";

/**
 * A generated multi-symbol tape with out-of-order trade times, for the differential test:
 * ids and arrival (E) stay in order, trade times T do not. Every 13th trade is up to 1.5 s
 * behind (disorder within the 2 s bound: never late), every 97th is 75 s behind (far past
 * the watermark: late in any engine, whatever its watermark cadence). The first 200 trades of
 * a symbol stay in place, so no trade is behind a watermark that does not exist yet.
 */
export function outOfOrderTape(seed: string, symbols: readonly string[] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"], durationMs = 5 * 60_000, ratePerSec = 12): Tape {
  const base = generateTape({ seed, symbols, durationMs, ratePerSec });
  const seen = new Map<string, number>();
  const shifted = [...tapeTrades(base)].map((t) => {
    const i = (seen.get(t.symbol) ?? 0) + 1;
    seen.set(t.symbol, i);
    if (i <= 200) return t;
    if (i % 97 === 0) return { ...t, time: t.time - 75_000 };
    if (i % 13 === 0) return { ...t, time: t.time - 1_000 - (i % 500) };
    return t;
  });
  return buildTape(shifted);
}
