import * as fs from "node:fs";
import * as path from "node:path";
import { loadLines } from "../sim/binance/fixtures.ts";
import { readTradeBuffer } from "../sim/binance/trade-reader.ts";

/**
 * Lines per second of `@trade` JSONL through the byte-scanning reader and through the loader,
 * on the same in-memory bytes (the reader) and file (the loader; its read is a few % of its time).
 * The two must agree on every trade, or the figure is refused.
 */
export function benchTradeReader(file: string, reps = 3, loaderReps = 2): { lines: number; readerLinesPerSec: number; loaderLinesPerSec: number; ratio: number } {
  const buf = fs.readFileSync(file);
  let best = Infinity;
  let trades = 0;
  let lines = 0;
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    const r = readTradeBuffer(buf, file);
    const ms = performance.now() - t0;
    if (r.kind !== "json") throw new Error(`bench: ${file} read as ${r.kind}`);
    trades = r.trades.length;
    lines = r.lines;
    if (i > 0) best = Math.min(best, ms);
  }
  let bestLoader = Infinity;
  let loaded = 0;
  for (let i = 0; i < loaderReps; i++) {
    const t0 = performance.now();
    const tape = loadLines(file);
    bestLoader = Math.min(bestLoader, performance.now() - t0);
    loaded = tape.stats.trades;
  }
  if (loaded !== trades) throw new Error(`bench: reader kept ${trades} trades, loader ${loaded}`);
  const readerLinesPerSec = (lines / best) * 1000;
  const loaderLinesPerSec = (lines / bestLoader) * 1000;
  return { lines, readerLinesPerSec: Math.round(readerLinesPerSec), loaderLinesPerSec: Math.round(loaderLinesPerSec), ratio: +(readerLinesPerSec / loaderLinesPerSec).toFixed(2) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? path.join("..", "shared", "data", "binance-2024-08-08", "btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl");
  console.log(benchTradeReader(file));
}
