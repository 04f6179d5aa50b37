import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { parseFixed } from "../engine/decimal.ts";
import type { Trade } from "../engine/connectors/binance/trade.ts";
import { generateTape } from "../sim/binance/generator.ts";
import { buildTape, tapeTotals } from "../sim/binance/tape.ts";
import { windowLines, windowOracle } from "./oracle.ts";
import { runSumJob } from "./sum-job.ts";
import type { CommittedRow } from "./committed.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"];

function trade(symbol: string, id: number, time: number, q: string): Trade {
  return { symbol, id, time, eventTime: time, price: parseFixed("100"), quantity: parseFixed(q), isBuyerMaker: false };
}

describe("the seed job's window sums", () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 2048 }),
      fc.integer({ min: 0, max: 1_000_000 }),
    ],
    { numRuns: 25 },
  )("equal the oracle exactly for any tape, parallelism and batch size", (nSymbols, p, batchSize, seed) => {
    const tape = generateTape({ seed: `p${seed}`, symbols: SYMBOLS.slice(0, nSymbols), durationMs: 4 * 60_000, ratePerSec: 15 });
    const { rows, result } = runSumJob(tape, { parallelism: p, batchSize, seed });
    expect(result.status).toBe("FINISHED");
    expect(windowLines(rows)).toEqual(windowLines(windowOracle(tape, 60_000)));
  });

  it("gives the same trace hash for the same seed, and the same windows at every parallelism", () => {
    const tape = generateTape({ seed: "det", symbols: SYMBOLS.slice(0, 3), durationMs: 5 * 60_000, ratePerSec: 20 });
    const a = runSumJob(tape, { parallelism: 3, seed: 9, checkpointMs: 20_000 });
    const b = runSumJob(tape, { parallelism: 3, seed: 9, checkpointMs: 20_000 });
    expect(a.result.traceHash).toBe(b.result.traceHash);
    expect(a.result.traceLength).toBe(b.result.traceLength);
    const c = runSumJob(tape, { parallelism: 3, seed: 10, checkpointMs: 20_000 });
    expect(c.result.traceHash).not.toBe(a.result.traceHash); // another seed, another interleaving
    const outputs = [1, 2, 3, 4].map((p) => windowLines(runSumJob(tape, { parallelism: p, seed: 9 }).rows));
    for (const o of outputs) expect(o).toEqual(windowLines(windowOracle(tape, 60_000)));
  });

  it("puts trades at start and end-1 in the window, and a trade at end in the next", () => {
    const w = 1_723_161_240_000; // 23:54:00 UTC
    const tape = buildTape([
      trade("BTCUSDT", 1, w, "1"),
      trade("BTCUSDT", 2, w + 59_999, "2"),
      trade("BTCUSDT", 3, w + 60_000, "4"),
      trade("BTCUSDT", 4, w + 119_999, "8"),
    ]);
    const { rows } = runSumJob(tape);
    expect(windowLines(rows)).toEqual([`BTCUSDT ${w} 300000000 2`, `BTCUSDT ${w + 60_000} 1200000000 2`]);
  });

  it("sums same-millisecond bursts and 0.1 + 0.2 exactly, and beyond 2^53 units", () => {
    const w = 1_723_161_240_000;
    const burst: Trade[] = [];
    for (let i = 0; i < 1000; i++) burst.push(trade("ETHUSDT", i + 1, w + 5, i % 2 ? "0.1" : "0.2"));
    burst.push(trade("SHIBUSDT", 1, w + 7, "98765432109.12345678"), trade("SHIBUSDT", 2, w + 7, "98765432109.12345678"));
    const { rows } = runSumJob(buildTape(burst), { parallelism: 2 });
    const by = new Map(rows.map((r) => [r.symbol, r]));
    expect(by.get("ETHUSDT")).toMatchObject({ quantity: parseFixed("150"), count: 1000 });
    expect(by.get("SHIBUSDT")!.quantity).toBe(parseFixed("197530864218.24691356"));
    expect(by.get("SHIBUSDT")!.quantity > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it("counts late records, sends them to the late side output, and loses none", () => {
    const w = 1_723_161_240_000;
    const ts: Trade[] = [];
    let id = 1;
    for (let m = 0; m < 5; m++) for (let k = 0; k < 10; k++) ts.push(trade("BTCUSDT", id++, w + m * 60_000 + k * 1_000, "1"));
    // Three stragglers whose windows fired minutes ago (ids keep rising: the exchange sent them late).
    ts.push(trade("BTCUSDT", id++, w + 1_000, "0.5"), trade("BTCUSDT", id++, w + 61_000, "0.25"), trade("BTCUSDT", id++, w + 62_000, "0.25"));
    ts.push(trade("BTCUSDT", id++, w + 5 * 60_000, "1"));
    for (const t of ts.slice(-4)) (t as { eventTime: number }).eventTime = w + 5 * 60_000;
    const tape = buildTape(ts);
    const { rows, late, lateRecords } = runSumJob(tape);
    expect(late.get("BTCUSDT")).toEqual({ count: 3, quantity: parseFixed("1") });
    expect(lateRecords.map((l) => l.value.id).sort()).toEqual([51, 52, 53]);
    const committed = rows.reduce((a, r: CommittedRow) => a + r.quantity, 0n);
    expect(committed + late.get("BTCUSDT")!.quantity).toBe(tapeTotals(tape).get("BTCUSDT")!.quantity);
    expect(rows.reduce((a, r) => a + r.count, 0) + 3).toBe(tape.stats.trades);
  });
});
