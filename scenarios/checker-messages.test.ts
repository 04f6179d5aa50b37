import { describe, expect, it } from "vitest";
import { checkAtLeastOnce, checkConservation, checkFinished, checkKills, checkOnce, checkOracle } from "./checkers.ts";
import type { CommittedRow } from "./committed.ts";
import type { WindowRow } from "./oracle.ts";

/** The exact words of the checkers' findings (reports/messages.ts builds them). */
const M = 60_000;
const T = Date.UTC(2024, 7, 9, 0, 1);
const row = (symbol: string, start: number, quantity: bigint, count: number): CommittedRow & WindowRow => ({ symbol, start, end: start + M, quantity, count });

describe("checker messages", () => {
  const oracle = [row("BTCUSDT", T, 30_552_900_000n, 5169), row("BTCUSDT", T + M, 100_000_000n, 10)];

  it("names a duplicated window by symbol and ISO span, with ×n", () => {
    const r = checkOnce([oracle[0], oracle[0], oracle[1]]);
    expect(r.message).toBe("1 window committed more than once: BTCUSDT 2024-08-09T00:01:00Z–00:02:00Z ×2");
    expect(checkOnce(oracle).message).toBe("2 windows, each committed once");
    expect(checkOnce([oracle[0]]).message).toBe("1 window, each committed once");
  });

  it("names differing windows with trimmed quantities and counted trades", () => {
    const r = checkOracle([row("BTCUSDT", T, 30_553_300_000n, 5170)], oracle);
    expect(r.message).toBe("2 of 2 windows differ: BTCUSDT 2024-08-09T00:01:00Z–00:02:00Z committed 305.533 in 5,170 trades, expected 305.529 in 5,169 trades; "
      + "BTCUSDT 2024-08-09T00:02:00Z–00:03:00Z missing (expected 1 in 10 trades)");
    expect(checkOracle([oracle[0], oracle[1], row("ETHUSDT", T, 1n, 1)], oracle).message)
      .toBe("1 of 2 windows differs: ETHUSDT 2024-08-09T00:01:00Z–00:02:00Z committed but not in the tape");
    expect(checkOracle(oracle, oracle).message).toBe("2 windows, exact sums and counts");
  });

  it("a committed line that is not a window row (torn output) is a violation naming the line, with what else differs", () => {
    const r = checkOracle([oracle[0]], oracle, ["/flinch/out:2: malformed JSON: Unexpected end of JSON input"]);
    expect(r.valid).toBe(false);
    expect(r.message).toBe("1 committed line is not a window row (torn or damaged output): /flinch/out:2: malformed JSON: Unexpected end of JSON input; "
      + "and 1 of 2 windows differ: BTCUSDT 2024-08-09T00:02:00Z–00:03:00Z missing (expected 1 in 10 trades)");
  });

  it("at least once: a window may hold trades twice or come twice, but none short, none missing, none invented", () => {
    expect(checkAtLeastOnce(oracle, oracle)).toEqual({ property: "committed output covers the oracle (at least once)", valid: true, message: "2 windows, each with at least its trades" });
    // A replayed record counted twice, and a window committed again holding only the replayed part: both allowed.
    expect(checkAtLeastOnce([row("BTCUSDT", T, 30_553_300_000n, 5170), oracle[1], row("BTCUSDT", T + M, 2n, 1)], oracle).valid).toBe(true);
    const r = checkAtLeastOnce([row("BTCUSDT", T, 30_552_800_000n, 5169), row("ETHUSDT", T, 1n, 1)], oracle);
    expect(r.valid).toBe(false);
    expect(r.message).toBe("3 windows short, missing or not in the tape (of 2 windows): BTCUSDT 2024-08-09T00:01:00Z–00:02:00Z committed 305.528 in 5,169 trades over all its rows, less than the tape's 305.529 in 5,169 trades; "
      + "BTCUSDT 2024-08-09T00:02:00Z–00:03:00Z missing (expected 1 in 10 trades); ETHUSDT 2024-08-09T00:01:00Z–00:02:00Z committed but not in the tape");
    expect(checkAtLeastOnce(oracle, oracle, ["/flinch/out:2: malformed JSON"]).valid).toBe(false);
  });

  it("says how committed + late differs from the tape", () => {
    const totals = new Map([["BTCUSDT", { quantity: 30_552_900_000n, count: 5169 }]]);
    const r = checkConservation([row("BTCUSDT", T, 30_553_300_000n, 5170)], new Map(), totals);
    expect(r.valid).toBe(false);
    expect(r.message).toBe("committed + late ≠ tape: 0.004 BTCUSDT quantity and 1 trade too many (tape: 305.529 in 5,169 trades)");
    expect(checkConservation([oracle[0]], new Map(), totals).message).toBe("1 symbol balances exactly");
  });

  it("counts restarts and kills in the singular when there is one", () => {
    expect(checkFinished({ status: "FINISHED", restarts: 1 }).message).toBe("finished after 1 restart");
    expect(checkFinished({ status: "FINISHED", restarts: 3 }).message).toBe("finished after 3 restarts");
    expect(checkKills([{ site: "checkpoint.async-write", lastCompleted: 2, durable: true, resumedFrom: 2 }]).message)
      .toBe("1 process kill, each resumed from the latest completed checkpoint");
  });
});
