import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { BinanceStreamFeed } from "../../engine/connectors/binance/adapters/stream-feed.ts";
import { loadFixture } from "./fixtures.ts";
import { generateTape } from "./generator.ts";
import { interceptBinance, type Interception } from "./intercept.ts";
import { FAST_TIMING, rangeOf, } from "./server/realtime-job.ts";
import { runRealtimeJob } from "../../scenarios/realtime-job.ts";

const REAL = "../shared/data/binance-2024-08-08/btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl";
let active: Interception | undefined;
afterEach(() => {
  active?.dispose();
  active = undefined;
});

describe("intercept mode: the production URLs served in process", () => {
  it("answers https://api.binance.com REST and refuses any other host without touching the network", async () => {
    const tape = generateTape({ seed: "i", symbols: ["BTCUSDT"], durationMs: 60_000, ratePerSec: 5 });
    active = interceptBinance({ tape, pace: { speed: 1e9 } });
    const r = await fetch("https://api.binance.com/api/v3/exchangeInfo");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-mbx-used-weight-1m")).toBe("20");
    expect(((await r.json()) as any).symbols[0].symbol).toBe("BTCUSDT");
    expect((await fetch("https://example.com/")).status).toBe(502);
  });

  it("a job on wss://stream.binance.com:9443 under toxics gives the oracle's windows, with a source crash and restore", async () => {
    const tape = generateTape({ seed: "i2", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 4 * 60_000, ratePerSec: 15 });
    active = interceptBinance({ tape, pace: { speed: 400 }, seed: "i2", plan: { toxics: [{ kind: "drop", probability: 0.02 }, { kind: "duplicate", probability: 0.05 }, { kind: "reorder", probability: 0.05, window: 3 }, { kind: "disconnect", probability: 0.001 }, { kind: "rest-5xx", probability: 0.1 }] } });
    const feed = new BinanceStreamFeed({ symbols: tape.symbols, range: rangeOf(tape), timing: FAST_TIMING, seed: "c" });
    const { r, got, exp } = await runRealtimeJob(tape, feed, 10);
    expect(r.status).toBe("FINISHED");
    expect(r.restarts).toBe(1);
    expect(got).toEqual(exp);
    expect(active.core.counts.connections).toBeGreaterThan(0);
  }, 30_000);

  it.skipIf(!existsSync(REAL))("the real BTCUSDT recording gives the oracle's windows through the production URLs" + (existsSync(REAL) ? "" : " (skipped: ../shared/data absent)"), async () => {
    const tape = loadFixture(REAL);
    active = interceptBinance({ tape });
    const feed = new BinanceStreamFeed({ symbols: tape.symbols, range: rangeOf(tape), timing: FAST_TIMING });
    const { r, got, exp } = await runRealtimeJob(tape, feed);
    expect(r.status).toBe("FINISHED");
    expect(got).toEqual(exp);
  }, 30_000);
});
