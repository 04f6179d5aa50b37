import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import { buildTape, mergeTapes, tapeTotals, tapeTrades } from "./tape.ts";

function tr(symbol: string, id: number, quantity = 100n): Trade {
  return { symbol, id, price: 6_000_000_000_000n, quantity, time: 1000 + id, eventTime: 1001 + id, isBuyerMaker: id % 2 === 0 };
}

describe("buildTape", () => {
  it("sorts per symbol by id, keeps the first copy of a repeated id and counts the rest", () => {
    const first = tr("BTCUSDT", 5, 1n);
    const resentDifferent = tr("BTCUSDT", 5, 999n);
    const tape = buildTape([tr("ETHUSDT", 2), first, tr("BTCUSDT", 4), resentDifferent, tr("BTCUSDT", 5), tr("BTCUSDT", 6)]);
    expect(tape.symbols).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(tape.bySymbol.get("BTCUSDT")!.map((t) => t.id)).toEqual([4, 5, 6]);
    expect(tape.bySymbol.get("BTCUSDT")![1]).toBe(first);
    expect(tape.stats).toMatchObject({ lines: 6, trades: 4, duplicates: 2, gaps: [] });
  });

  it("records id gaps per symbol", () => {
    const tape = buildTape([tr("BTCUSDT", 1), tr("BTCUSDT", 2), tr("BTCUSDT", 5), tr("BTCUSDT", 9), tr("ETHUSDT", 7), tr("ETHUSDT", 8)]);
    expect(tape.stats.gaps).toEqual([
      { symbol: "BTCUSDT", afterId: 2, nextId: 5 },
      { symbol: "BTCUSDT", afterId: 5, nextId: 9 },
    ]);
  });

  it("carries the caller's counts", () => {
    const q = { file: "f", line: 3, reason: "r", text: "t" };
    const tape = buildTape([tr("BTCUSDT", 1)], { lines: 10, skipped: { reply: 1 }, duplicates: 2, quarantined: [q] });
    expect(tape.stats).toEqual({ lines: 10, trades: 1, reordered: 0, skipped: { reply: 1 }, duplicates: 2, gaps: [], quarantined: [q] });
  });

  test.prop([fc.array(fc.tuple(fc.constantFrom("A", "B", "C"), fc.integer({ min: 0, max: 60 })), { maxLength: 200 })])(
    "any input: ascending unique ids, nothing lost without a count, gaps exactly the holes",
    (pairs) => {
      const tape = buildTape(pairs.map(([s, id]) => tr(s, id)));
      const unique = new Set(pairs.map(([s, id]) => `${s}:${id}`));
      expect(tape.stats.trades).toBe(unique.size);
      expect(tape.stats.trades + tape.stats.duplicates).toBe(pairs.length);
      let holes = 0;
      for (const s of tape.symbols) {
        const ids = tape.bySymbol.get(s)!.map((t) => t.id);
        for (let i = 1; i < ids.length; i++) {
          expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
          if (ids[i]! > ids[i - 1]! + 1) holes++;
        }
      }
      expect(tape.stats.gaps.length).toBe(holes);
    },
  );
});

describe("mergeTapes", () => {
  it("adds counts, drops ids already in an earlier tape, and lets one file fill another's gap", () => {
    const a = buildTape([tr("BTCUSDT", 1), tr("BTCUSDT", 2), tr("BTCUSDT", 4)], { skipped: { bookTicker: 3 }, lines: 6 });
    const b = buildTape([tr("BTCUSDT", 2, 7n), tr("BTCUSDT", 3), tr("ETHUSDT", 1), tr("ETHUSDT", 1)], { skipped: { bookTicker: 1, reply: 1 }, lines: 6 });
    const m = mergeTapes([a, b]);
    expect(m.stats).toMatchObject({ lines: 12, trades: 5, duplicates: 2, gaps: [], skipped: { bookTicker: 4, reply: 1 } });
    expect(m.bySymbol.get("BTCUSDT")!.map((t) => [t.id, t.quantity])).toEqual([[1, 100n], [2, 100n], [3, 100n], [4, 100n]]);
  });
});

describe("tapeTrades and tapeTotals", () => {
  it("iterate by symbol then id and sum exactly", () => {
    const tape = buildTape([tr("ETHUSDT", 3, 5n), tr("BTCUSDT", 2, 123_456_789_012_345_678n), tr("BTCUSDT", 1, 1n)]);
    expect([...tapeTrades(tape)].map((t) => `${t.symbol}:${t.id}`)).toEqual(["BTCUSDT:1", "BTCUSDT:2", "ETHUSDT:3"]);
    expect(tapeTotals(tape)).toEqual(
      new Map([
        ["BTCUSDT", { count: 2, quantity: 123_456_789_012_345_679n }],
        ["ETHUSDT", { count: 1, quantity: 5n }],
      ]),
    );
  });
});
