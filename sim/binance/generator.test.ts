import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { baseOrderRate, generateTape, resolveConstraints } from "./generator.ts";
import { tapeTrades } from "./tape.ts";

const small = { durationMs: 60_000, ratePerSec: 50 };

describe("generateTape", () => {
  it("gives the same trades for the same seed and different ones for another seed", () => {
    const a = generateTape({ seed: "alpha", ...small });
    const b = generateTape({ seed: "alpha", ...small });
    const c = generateTape({ seed: "beta", ...small });
    expect([...tapeTrades(a)]).toEqual([...tapeTrades(b)]);
    expect([...tapeTrades(a)]).not.toEqual([...tapeTrades(c)]);
  });

  it("keeps a symbol's trades unchanged when another symbol is added", () => {
    const one = generateTape({ seed: "s", symbols: ["BTCUSDT"], ...small });
    const two = generateTape({ seed: "s", symbols: ["ETHUSDT", "BTCUSDT"], ...small });
    expect(two.symbols).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(two.bySymbol.get("BTCUSDT")).toEqual(one.bySymbol.get("BTCUSDT"));
  });

  test.prop(
    {
      seed: fc.string({ minLength: 1, maxLength: 8 }),
      rate: fc.double({ min: 0.5, max: 400, noNaN: true }),
      firstId: fc.nat({ max: 2 ** 40 }),
      burstProbability: fc.double({ min: 0, max: 0.5, noNaN: true }),
      burstMultiplier: fc.integer({ min: 1, max: 20 }),
    },
    { numRuns: 40 },
  )("ids consecutive from firstId, prices on tick and > 0, quantities on lot and > 0, times in range", (p) => {
    const startTime = 1_700_000_000_000;
    const durationMs = 20_000;
    const tape = generateTape({
      seed: p.seed,
      symbols: ["BTCUSDT", "XYZUSDT"],
      startTime,
      durationMs,
      ratePerSec: p.rate,
      firstId: { XYZUSDT: p.firstId },
      burstProbability: p.burstProbability,
      burstMultiplier: p.burstMultiplier,
      tickSize: { XYZUSDT: 7n },
      lotSize: { XYZUSDT: "0.5" },
      startPrice: { XYZUSDT: 21n }, // 3 ticks: the walk must reflect at the floor, not go to 0
      priceStepTicks: { XYZUSDT: 4 },
    });
    expect(tape.stats.gaps).toEqual([]);
    expect(tape.stats.duplicates).toBe(0);
    for (const [symbol, tick, lot, first] of [["BTCUSDT", 1_000_000n, 1000n, 1], ["XYZUSDT", 7n, 50_000_000n, p.firstId]] as const) {
      const trades = tape.bySymbol.get(symbol) ?? [];
      // Plain checks, one expect: thousands of expect() calls per run would dominate the time.
      const bad: string[] = [];
      let lastE = 0;
      trades.forEach((t, i) => {
        if (t.symbol !== symbol || t.id !== first + i) bad.push(`id ${t.id} at ${i}`);
        if (t.price <= 0n || t.price % tick !== 0n) bad.push(`price ${t.price}`);
        if (t.quantity <= 0n || t.quantity % lot !== 0n) bad.push(`quantity ${t.quantity}`);
        if (t.time < startTime || t.time >= startTime + durationMs) bad.push(`time ${t.time}`);
        if (i > 0 && t.time < trades[i - 1]!.time) bad.push(`time goes back at ${t.id}`);
        if (t.eventTime - t.time < 0 || t.eventTime - t.time > 200) bad.push(`E - T ${t.eventTime - t.time}`);
        if (t.eventTime < lastE) bad.push(`E goes back at ${t.id}`); // the stream sends in id order
        lastE = t.eventTime;
      });
      expect(bad.slice(0, 5)).toEqual([]);
    }
  });

  it("produces same-millisecond sweeps with one side and a monotone price, and both maker flags", () => {
    const trades = generateTape({ seed: "bursts", ...small }).bySymbol.get("BTCUSDT")!;
    let sameMs = 0;
    for (let i = 1; i < trades.length; i++) if (trades[i]!.time === trades[i - 1]!.time) sameMs++;
    expect(sameMs).toBeGreaterThan(20);
    const makers = trades.filter((t) => t.isBuyerMaker).length;
    expect(makers / trades.length).toBeGreaterThan(0.3);
    expect(makers / trades.length).toBeLessThan(0.7);
  });

  it("has high-rate spells: some second holds several times the average rate", () => {
    const trades = generateTape({ seed: "spells", durationMs: 300_000, ratePerSec: 20 }).bySymbol.get("BTCUSDT")!;
    const perSec = new Map<number, number>();
    for (const t of trades) perSec.set(Math.floor(t.time / 1000), (perSec.get(Math.floor(t.time / 1000)) ?? 0) + 1);
    expect(Math.max(...perSec.values())).toBeGreaterThan(3 * 20);
  });

  it("averages roughly ratePerSec trades per second, bursts included", () => {
    for (const rate of [5, 30, 500]) {
      const n = generateTape({ seed: `rate${rate}`, durationMs: 600_000, ratePerSec: rate }).stats.trades;
      expect(n / 600).toBeGreaterThan(rate * 0.85);
      expect(n / 600).toBeLessThan(rate * 1.15);
    }
    expect(baseOrderRate(100, 0, 8, 0.4)).toBeCloseTo(100, 6);
  });

  it("generates an empty symbol for rate 0 and nothing for duration 0", () => {
    expect(generateTape({ seed: "z", ratePerSec: 0 }).stats.trades).toBe(0);
    expect(generateTape({ seed: "z", durationMs: 0 }).symbols).toEqual([]);
  });

  it("fills defaults by symbol", () => {
    const r = resolveConstraints({ seed: "d", symbols: ["BTCUSDT", "ETHUSDT", "DOGEUSDT"] });
    expect(r.startTime).toBe(1723161255000);
    expect(r.durationMs).toBe(600_000);
    expect(r.perSymbol.map((p) => [p.tick, p.lot, p.rate])).toEqual([
      [1_000_000n, 1000n, 30],
      [1_000_000n, 10_000n, 30],
      [10_000n, 10_000_000n, 30],
    ]);
  });

  // Speed is measured by `npm run bench` (the tape generation line), not asserted here.
  it("generates a 1M-trade tape with consecutive ids", () => {
    const tape = generateTape({ seed: "big", ratePerSec: 1700, durationMs: 600_000 });
    expect(tape.stats.trades).toBeGreaterThan(1_000_000);
    const t = tape.bySymbol.get("BTCUSDT")!;
    expect(t[t.length - 1].id - t[0].id + 1).toBe(t.length);
  });

  it.each([
    [{ seed: "" }, /seed/],
    [{ seed: "x", symbols: [] }, /symbols/],
    [{ seed: "x", symbols: ["btcusdt"] }, /upper-case/],
    [{ seed: "x", symbols: ["A", "A"] }, /repeat/],
    [{ seed: "x", durationMs: -1 }, /durationMs/],
    [{ seed: "x", startTime: 1.5 }, /startTime/],
    [{ seed: "x", ratePerSec: Number.NaN }, /ratePerSec\[BTCUSDT\]/],
    [{ seed: "x", ratePerSec: { ETHUSDT: 3 } }, /ETHUSDT.*not among symbols/],
    [{ seed: "x", burstProbability: 1 }, /burstProbability/],
    [{ seed: "x", burstMultiplier: 0.5 }, /burstMultiplier/],
    [{ seed: "x", tickSize: 0n }, /tickSize\[BTCUSDT\] must be positive/],
    [{ seed: "x", lotSize: "-1" }, /lotSize\[BTCUSDT\].*negative/],
    [{ seed: "x", startPrice: "100.005" }, /startPrice\[BTCUSDT\].*not a multiple of tickSize/],
    [{ seed: "x", startPrice: "0" }, /startPrice\[BTCUSDT\] must be positive/],
    [{ seed: "x", quantitySigma: -1 }, /quantitySigma/],
    [{ seed: "x", firstId: -3 }, /firstId/],
  ] as const)("refuses bad constraints at once: %o", (c, msg) => {
    expect(() => generateTape(c as never)).toThrow(/^generateTape: /);
    expect(() => generateTape(c as never)).toThrow(msg);
  });
});
