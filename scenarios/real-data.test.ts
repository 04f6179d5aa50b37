import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatFixed } from "../engine/decimal.ts";
import { loadFixtures } from "../sim/binance/fixtures.ts";
import { windowLines, windowOracle } from "./oracle.ts";
import { runSumJob } from "./sum-job.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DATA = path.resolve(root, "../shared/data/binance-2024-08-08");
const present = fs.existsSync(DATA);
if (!present) console.warn(`../shared/data absent (${DATA}): skipping the real-recording replays`);

const RECORDINGS: [string, string[]][] = [
  ["BTCUSDT @trade JSONL", ["btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl"]],
  ["ETHUSDT @trade JSONL", ["ethusdt_trade_20240808T2354Z-20240809T0005Z.jsonl"]],
  ["BTCUSDT recv-ns combined stream (gz)", ["btcusdt_trade_with_recv_ns.txt.gz"]],
  ["ETHUSDT recv-ns combined stream (gz)", ["ethusdt_trade_with_recv_ns.txt.gz"]],
  ["BTCUSDT raw recordings with bookTicker/depth (gz)", ["raw/btcusdt_20240808.gz", "raw/btcusdt_20240809.gz"]],
  ["ETHUSDT raw recordings with bookTicker/depth (gz)", ["raw/ethusdt_20240808.gz", "raw/ethusdt_20240809.gz"]],
  ["USD-M futures BTCUSDT raw recording (gz)", ["raw/usdm_futures_btcusdt_20240808.gz"]],
  ["BTCUSDT + ETHUSDT together", ["btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl", "ethusdt_trade_20240808T2354Z-20240809T0005Z.jsonl"]],
];

describe.skipIf(!present)("real Binance recordings replay to exactly the oracle's windows", () => {
  it.each(RECORDINGS)("%s", (_name, files) => {
    const tape = loadFixtures(files.map((f) => path.join(DATA, f)));
    expect(tape.stats.gaps).toEqual([]);
    const { rows, result, late } = runSumJob(tape, { parallelism: 2, checkpointMs: 60_000 });
    expect(result.status).toBe("FINISHED");
    expect(late.size).toBe(0);
    expect(windowLines(rows)).toEqual(windowLines(windowOracle(tape, 60_000)));
  });

  it("BTCUSDT gives the per-minute totals published with the data", () => {
    const tape = loadFixtures([path.join(DATA, "btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl")]);
    const { rows } = runSumJob(tape, { parallelism: 1, checkpointMs: 60_000 });
    const got = rows
      .sort((a, b) => a.start - b.start)
      .map((r) => `${new Date(r.start).toISOString().slice(11, 16)} ${r.count} ${formatFixed(r.quantity).replace(/0+$/, "")}`);
    expect(got).toEqual([
      "23:54 875 12.43238", "23:55 1255 15.07702", "23:56 1011 15.49778", "23:57 2069 59.29235",
      "23:58 3216 77.14202", "23:59 1312 32.41946", "00:00 1824 34.0818", "00:01 2931 79.69369",
      "00:02 1992 40.44064", "00:03 1705 37.08509", "00:04 1461 30.316", "00:05 253 4.43729",
    ]);
  });
});
