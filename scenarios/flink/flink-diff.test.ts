import * as fs from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { loadFixtures } from "../../sim/binance/fixtures.ts";
import { compareSides, flinchSide, flinkSide, type WatermarkMode } from "./diff.ts";
import { outOfOrderTape } from "./out-of-order.ts";
import type { Tape } from "../../sim/binance/tape.ts";

/** flinch's engine against real Flink, window by window: the differential oracle. */
const cp = inject("flinkClasspath");
if (!cp) console.warn(`flink diff tests skipped: ${inject("flinkSkipReason")}`);

const DATA = "../shared/data/binance-2024-08-08";
const REAL = [`${DATA}/btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl`, `${DATA}/ethusdt_trade_20240808T2354Z-20240809T0005Z.jsonl`];
const haveReal = REAL.every((p) => fs.existsSync(p));
if (cp && !haveReal) console.warn(`flink diff on real recordings skipped: ${DATA} is absent`);

async function diff(tape: Tape, watermarks: WatermarkMode) {
  const o = { windowMs: 60_000, watermarks, outOfOrdernessMs: 2_000 };
  const ours = flinchSide(tape, o);
  return { ours, d: compareSides(ours, await flinkSide(tape, { ...o, classpath: cp, jvmTimeoutMs: 90_000 })) };
}

describe.skipIf(!cp)("flinch flink diff", () => {
  it.skipIf(!haveReal)("is identical on the real BTCUSDT and ETHUSDT recordings", async () => {
    const tape = loadFixtures(REAL);
    const { ours, d } = await diff(tape, "bounded");
    expect(d.differences).toEqual([]);
    expect(d.lateDiffers).toBe(false);
    expect(ours.rows.length).toBe(24);
  });

  it("is identical on a generated three-symbol tape with out-of-order trades, late records on the side output included", async () => {
    const tape = outOfOrderTape("flink-diff-test");
    const { ours, d } = await diff(tape, "bounded");
    expect(d.differences).toEqual([]);
    expect(d.lateDiffers).toBe(false);
    const late = d.late.reduce((n, l) => n + l.flink.count, 0);
    expect(late).toBeGreaterThan(50);
    expect(ours.rows.reduce((n, r) => n + r.count, 0) + late).toBe(tape.stats.trades);
  });

  it("is identical with noWatermarks() on the bounded tape: every window fires once, at end of input, nothing late", async () => {
    const tape = outOfOrderTape("flink-diff-test");
    const { ours, d } = await diff(tape, "none");
    expect(d.differences).toEqual([]);
    expect(d.late).toEqual([]);
    expect(ours.rows.reduce((n, r) => n + r.count, 0)).toBe(tape.stats.trades);
  });
});
