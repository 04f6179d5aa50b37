import { describe, expect, it } from "vitest";
import { conservationMismatch, count, fmtQuantity, isoSpan, timeAt, windowAt } from "./messages.ts";

const T = Date.UTC(2024, 7, 9, 0, 1);

describe("messages", () => {
  it("counts with the right plural", () => {
    expect([count(0, "symbol"), count(1, "symbol"), count(2, "symbol"), count(1234, "trade"), count(1, "process kill")])
      .toEqual(["0 symbols", "1 symbol", "2 symbols", "1,234 trades", "1 process kill"]);
  });

  it("writes quantities in prose without pointless trailing zeros, exactly", () => {
    expect([fmtQuantity(30_553_300_000n), fmtQuantity(400_000n), fmtQuantity(0n), fmtQuantity(1_200_000_000n), fmtQuantity(-5n), fmtQuantity(1n)])
      .toEqual(["305.533", "0.004", "0", "12", "-0.00000005", "0.00000001"]);
    expect([fmtQuantity("305.53300000"), fmtQuantity("0.00000000"), fmtQuantity("12")]).toEqual(["305.533", "0", "12"]);
  });

  it("writes windows as ISO times with the symbol, the end's date once", () => {
    expect(windowAt("BTCUSDT", T, T + 60_000, 2)).toBe("BTCUSDT 2024-08-09T00:01:00Z–00:02:00Z ×2");
    expect(windowAt("BTCUSDT", T, T + 60_000)).toBe("BTCUSDT 2024-08-09T00:01:00Z–00:02:00Z");
    expect(isoSpan(Date.UTC(2024, 7, 8, 23, 59), Date.UTC(2024, 7, 9, 0, 0))).toBe("2024-08-08T23:59:00Z–2024-08-09T00:00:00Z");
    expect(timeAt(T + 5)).toBe("2024-08-09T00:01:00.005Z");
    expect(timeAt(1500)).toBe("1,500 ms");
  });

  it("says how committed + late differs from the tape, in one direction or two", () => {
    const tape = { quantity: 30_552_900_000n, count: 5169 };
    const none = { quantity: 0n, count: 0 };
    expect(conservationMismatch("BTCUSDT", { quantity: 30_553_300_000n, count: 5170 }, none, tape))
      .toBe("committed + late ≠ tape: 0.004 BTCUSDT quantity and 1 trade too many (tape: 305.529 in 5,169 trades)");
    expect(conservationMismatch("BTCUSDT", { quantity: 30_552_500_000n, count: 5167 }, none, tape))
      .toBe("committed + late ≠ tape: 0.004 BTCUSDT quantity and 2 trades too few (tape: 305.529 in 5,169 trades)");
    expect(conservationMismatch("BTCUSDT", { quantity: 30_552_900_000n, count: 5170 }, none, tape))
      .toBe("committed + late ≠ tape: 1 trade too many (tape: 305.529 in 5,169 trades)");
    expect(conservationMismatch("BTCUSDT", { quantity: 30_552_800_000n, count: 5169 }, none, tape))
      .toBe("committed + late ≠ tape: 0.001 BTCUSDT quantity too little (tape: 305.529 in 5,169 trades)");
    expect(conservationMismatch("BTCUSDT", { quantity: 30_553_000_000n, count: 5168 }, none, tape))
      .toBe("committed + late ≠ tape: 0.001 BTCUSDT quantity too much and 1 trade too few (tape: 305.529 in 5,169 trades)");
    // Late output counts toward the total.
    expect(conservationMismatch("BTCUSDT", { quantity: 30_552_800_000n, count: 5168 }, { quantity: 100_000n, count: 1 }, tape)).toBeNull();
  });
});
