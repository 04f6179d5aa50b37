import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { BinanceStreamFeed } from "../../../engine/connectors/binance/adapters/stream-feed.ts";
import { loadFixture } from "../fixtures.ts";
import { generateTape } from "../generator.ts";
import type { FeedFaultPlan } from "../toxics.ts";
import { startExchangeServer, type ExchangeServer } from "./server.ts";
import { FAST_TIMING, rangeOf, } from "./realtime-job.ts";
import { runRealtimeJob } from "../../../scenarios/realtime-job.ts";

const REAL = "../shared/data/binance-2024-08-08/btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl";
const servers: ExchangeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const HEAVY: FeedFaultPlan = {
  toxics: [
    { kind: "duplicate", probability: 0.05 }, { kind: "reorder", probability: 0.05, window: 4 }, { kind: "drop", probability: 0.02 },
    { kind: "malformed", probability: 0.01 }, { kind: "disconnect", probability: 0.0005 }, { kind: "stall", probability: 0.0002, durationMs: 1_500 },
    { kind: "server-restart", probability: 0.0001, downMs: 200 }, { kind: "rest-429", probability: 0.1, retryAfterMs: 0 }, { kind: "rest-5xx", probability: 0.1 },
  ],
};

describe("ws mode: BinanceWebSocketSource over real sockets to the simulated exchange", () => {
  it("under toxics, the job's windows equal the oracle (generated tape)", async () => {
    const tape = generateTape({ seed: "ws", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 5 * 60_000, ratePerSec: 20 });
    const s = await startExchangeServer({ tape, plan: HEAVY, seed: "ws", limits: { pingIntervalMs: 200, pongTimeoutMs: 1000 } });
    servers.push(s);
    const feed = new BinanceStreamFeed({ symbols: tape.symbols, wsBase: s.wsUrl, restBase: s.httpUrl, range: rangeOf(tape), timing: FAST_TIMING, restTimeoutMs: 1000, seed: "c" });
    const { r, got, exp } = await runRealtimeJob(tape, feed);
    expect(r.status).toBe("FINISHED");
    expect(got).toEqual(exp);
    expect(feed.stats.disconnects + feed.stats.malformed + feed.stats.backfilled).toBeGreaterThan(0);
  }, 30_000);

  it("a source crash mid-run restores from its checkpointed ids through REST and still gives the oracle's windows", async () => {
    const tape = generateTape({ seed: "ws2", symbols: ["BTCUSDT"], durationMs: 10 * 60_000, ratePerSec: 40 });
    const s = await startExchangeServer({ tape, pace: { speed: 600 }, seed: "ws2" });
    servers.push(s);
    const feed = new BinanceStreamFeed({ symbols: tape.symbols, wsBase: s.wsUrl, restBase: s.httpUrl, range: rangeOf(tape), timing: FAST_TIMING, seed: "c" });
    const { r, got, exp } = await runRealtimeJob(tape, feed, 40);
    expect(r.status).toBe("FINISHED");
    expect(r.restarts).toBe(1);
    expect(got).toEqual(exp);
  }, 30_000);

  it.skipIf(!existsSync(REAL))("the real BTCUSDT recording replays through ws to the same windows as the oracle" + (existsSync(REAL) ? "" : " (skipped: ../shared/data absent)"), async () => {
    const tape = loadFixture(REAL);
    const s = await startExchangeServer({ tape });
    servers.push(s);
    const feed = new BinanceStreamFeed({ symbols: tape.symbols, wsBase: s.wsUrl, restBase: s.httpUrl, range: rangeOf(tape), timing: FAST_TIMING });
    const { r, got, exp } = await runRealtimeJob(tape, feed);
    expect(r.status).toBe("FINISHED");
    expect(got).toEqual(exp);
    expect(got).toHaveLength(12);
  }, 30_000);
});
