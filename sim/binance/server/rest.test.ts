import { afterEach, describe, expect, it } from "vitest";
import { formatFixed } from "../../../engine/decimal.ts";
import { startExchangeServer, type ExchangeServer, type ExchangeServerOptions } from "./server.ts";
import { sleep, syntheticTape } from "./test-helpers.ts";

const tape = syntheticTape(["BTCUSDT", "ETHUSDT"], 3000);
const servers: ExchangeServer[] = [];
async function serve(o: Partial<ExchangeServerOptions> = {}): Promise<ExchangeServer> {
  // Paced at a huge speed: every trade is published as soon as the clock starts.
  const s = await startExchangeServer({ tape, pace: { speed: 1e9 }, ...o });
  servers.push(s);
  s.core.exchange.start(); // the paced clock starts now; 2 ms later the whole tape is published
  await sleep(2);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function get(s: ExchangeServer, path: string) {
  const r = await fetch(`${s.httpUrl}${path}`);
  return { status: r.status, headers: r.headers, body: (await r.json()) as any };
}

describe("REST market endpoints", () => {
  it("historicalTrades pages from fromId by at most 1000 and returns Binance's trade objects", async () => {
    const s = await serve();
    const r = await get(s, "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1500&limit=1000");
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(1000);
    const t = tape.bySymbol.get("BTCUSDT")![500];
    expect(r.body[0]).toEqual({ id: 1500, price: formatFixed(t.price), qty: "0.00100007", quoteQty: formatFixed((t.price * t.quantity) / 100_000_000n), time: 1_723_161_255_500, isBuyerMaker: false, isBestMatch: true });
    expect(r.body.map((t: { id: number }) => t.id)).toEqual(Array.from({ length: 1000 }, (_, i) => 1500 + i));
    const tail = await get(s, "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=3500");
    expect(tail.body.map((t: { id: number }) => t.id)).toEqual(Array.from({ length: 500 }, (_, i) => 3500 + i));
    expect((await get(s, "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=9999")).body).toEqual([]);
    expect((await get(s, "/api/v3/historicalTrades?symbol=BTCUSDT&limit=1001")).status).toBe(400);
  });

  it("trades returns the most recent, aggTrades add up to the trades, exchangeInfo lists the served symbols", async () => {
    const s = await serve();
    const recent = await get(s, "/api/v3/trades?symbol=ETHUSDT&limit=3");
    expect(recent.body.map((t: { id: number }) => t.id)).toEqual([3997, 3998, 3999]);
    const aggs = await get(s, "/api/v3/aggTrades?symbol=BTCUSDT&fromId=0&limit=1000");
    expect(aggs.body[0]).toMatchObject({ a: 1000, f: 1000, l: 1000, T: 1_723_161_255_000, m: true, M: true });
    const info = await get(s, "/api/v3/exchangeInfo");
    expect(info.body.symbols.map((x: { symbol: string }) => x.symbol)).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(info.body.symbols[0]).toMatchObject({ baseAsset: "BTC", quoteAsset: "USDT", status: "TRADING" });
    expect((await get(s, `/api/v3/exchangeInfo?symbols=${encodeURIComponent('["ETHUSDT"]')}`)).body.symbols).toHaveLength(1);
  });

  it("names bad parameters with Binance's error codes", async () => {
    const s = await serve();
    expect(await get(s, "/api/v3/trades")).toMatchObject({ status: 400, body: { code: -1102 } });
    expect(await get(s, "/api/v3/trades?symbol=NOPE")).toMatchObject({ status: 400, body: { code: -1121, msg: "Invalid symbol." } });
    expect(await get(s, "/api/v3/trades?symbol=btcusdt")).toMatchObject({ status: 400, body: { code: -1100 } });
    expect(await get(s, "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=-4")).toMatchObject({ status: 400, body: { code: -1100 } });
    expect((await get(s, "/api/v3/nothing")).status).toBe(404);
  });

  it("counts weight in X-MBX-USED-WEIGHT-1M, answers 429 with Retry-After over the limit, then 418 to a client that ignores it", async () => {
    const s = await serve({ weightLimit: 60 });
    const a = await get(s, "/api/v3/trades?symbol=BTCUSDT&limit=1");
    expect(a.headers.get("x-mbx-used-weight-1m")).toBe("25");
    const b = await get(s, "/api/v3/trades?symbol=BTCUSDT&limit=1");
    expect(b.headers.get("x-mbx-used-weight-1m")).toBe("50");
    const c = await get(s, "/api/v3/trades?symbol=BTCUSDT&limit=1");
    expect(c.status).toBe(429);
    expect(c.body.code).toBe(-1003);
    const retry = Number(c.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    const d = await get(s, "/api/v3/ping");
    expect(d.status).toBe(418);
    expect(Number(d.headers.get("retry-after"))).toBeGreaterThan(60);
  });

  it("REST toxics: 429 with Retry-After, 5xx", async () => {
    const s = await serve({ plan: { toxics: [{ kind: "rest-429", probability: 1, retryAfterMs: 2000 }] } });
    const r = await get(s, "/api/v3/ping");
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("2");
    const s2 = await serve({ plan: { toxics: [{ kind: "rest-5xx", probability: 1 }] } });
    expect([500, 503]).toContain((await get(s2, "/api/v3/ping")).status);
  });
});
