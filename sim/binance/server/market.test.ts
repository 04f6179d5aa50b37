import { afterEach, describe, expect, it } from "vitest";
import { formatFixed } from "../../../engine/decimal.ts";
import { windowOracle } from "../../../scenarios/oracle.ts";
import { generateTape } from "../generator.ts";
import { startExchangeServer, type ExchangeServer, type ExchangeServerOptions } from "./server.ts";
import { connect, sleep, syntheticTape, until, type TestClient } from "./test-helpers.ts";

/**
 * The exchange on its own clock, seen by raw ws clients and REST: every subscriber sees the same
 * live market from when it joins, a late one backfills over REST to exactly the tape, the end of
 * the tape closes streams with 1000 "end of tape" or loops, and the derived endpoints (klines,
 * ticker, depth) agree with the tape.
 */
const servers: ExchangeServer[] = [];
const clients: TestClient[] = [];
async function serve(o: ExchangeServerOptions): Promise<ExchangeServer> {
  const s = await startExchangeServer(o);
  servers.push(s);
  return s;
}
async function open(url: string): Promise<TestClient> {
  const c = await connect(url);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const s of servers.splice(0)) await s.close();
});
async function get(s: ExchangeServer, path: string): Promise<any> {
  const r = await fetch(`${s.httpUrl}${path}`);
  expect(r.status).toBe(200);
  return r.json();
}
const ids = (c: TestClient) => c.messages.map((m) => JSON.parse(m)).filter((m) => m.e === "trade").map((m) => m.t as number);

describe("one market for every subscriber", () => {
  it("paced: a late subscriber joins live, sees the same trades as an early one from then on, and backfills the rest over REST without gaps or duplicates", async () => {
    const tape = syntheticTape(["BTCUSDT"], 3000); // one trade per ms of tape time
    const s = await serve({ tape, pace: { speed: 2 }, endOfTape: "close" }); // 1.5 s of market
    const early = await open(`${s.wsUrl}/ws/btcusdt@trade`);
    await until(() => early.messages.length >= 400, 5_000, "the market under way");
    const late = await open(`${s.wsUrl}/ws/btcusdt@trade`);
    expect(await early.closed).toEqual({ code: 1000, reason: "end of tape" });
    expect(await late.closed).toEqual({ code: 1000, reason: "end of tape" });
    const a = ids(early), b = ids(late);
    expect(a).toEqual(Array.from({ length: 3000 }, (_, i) => 1000 + i));
    expect(b[0]).toBeGreaterThan(1400);
    expect(b).toEqual(a.slice(a.indexOf(b[0]))); // the same market from the moment it joined
    // Backfill as a Binance client does: historicalTrades from the first id up to the first live one.
    const backfill: number[] = [];
    for (let from = 1000; from < b[0];) {
      const page: { id: number }[] = await get(s, `/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${from}&limit=1000`);
      for (const t of page) if (t.id < b[0]) backfill.push(t.id);
      from = page[page.length - 1].id + 1;
    }
    expect([...backfill, ...b]).toEqual(a);
  });

  it("max: the market advances without any reader, REST shows it, and a subscriber after the end gets nothing but the close", async () => {
    const tape = syntheticTape(["BTCUSDT", "ETHUSDT"], 20_000);
    const s = await serve({ tape, endOfTape: "close" });
    expect(await get(s, "/api/v3/trades?symbol=BTCUSDT&limit=5")).toEqual([]); // the first client starts the market
    await until(() => s.core.exchange.ended, 5_000, "the end of the tape");
    expect((await get(s, "/api/v3/trades?symbol=ETHUSDT&limit=3")).map((t: { id: number }) => t.id)).toEqual([20_997, 20_998, 20_999]);
    const after = await open(`${s.wsUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    expect(await after.closed).toEqual({ code: 1000, reason: "end of tape" });
    expect(after.messages).toEqual([]);
  });

  it("loop: the tape plays again with ids continuing and times shifted by whole minutes; REST serves the later laps", async () => {
    const tape = syntheticTape(["BTCUSDT"], 100);
    const s = await serve({ tape, endOfTape: "loop" });
    const c = await open(`${s.wsUrl}/ws/btcusdt@trade`);
    await until(() => c.messages.length >= 350, 5_000, "three and a half laps");
    c.ws.close();
    const got = c.messages.slice(0, 350).map((m) => JSON.parse(m));
    expect(got.map((m) => m.t)).toEqual(Array.from({ length: 350 }, (_, i) => 1000 + i));
    const period = s.core.exchange.period;
    expect(period).toBe(60_000);
    for (const k of [0, 99, 100, 250, 349]) {
      expect(got[k].T).toBe(tape.bySymbol.get("BTCUSDT")![k % 100].time + Math.floor(k / 100) * period);
      expect(got[k].p).toBe(got[k % 100].p);
    }
    const rest = await get(s, "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1195&limit=10");
    expect(rest.map((t: { id: number; time: number }) => [t.id, t.time])).toEqual(got.slice(195, 205).map((m) => [m.t, m.T]));
    const agg = await get(s, "/api/v3/aggTrades?symbol=BTCUSDT&fromId=1100&limit=2");
    expect(agg.map((a: { a: number; f: number; T: number }) => [a.a, a.f, a.T])).toEqual([[1100, 1100, got[100].T], [1101, 1101, got[101].T]]);
  });
});

describe("pings", () => {
  it("an empty pong (what the official connectors send) answers the pings; no pong at all is closed at the deadline", async () => {
    const s = await serve({ tape: syntheticTape(["BTCUSDT"], 10), limits: { pingIntervalMs: 250, pongTimeoutMs: 600 } }); // pongs count toward 5 messages/s
    const empty = await connect(`${s.wsUrl}/ws`, { autoPong: false });
    clients.push(empty);
    empty.ws.on("ping", () => empty.ws.pong());
    const mute = await connect(`${s.wsUrl}/ws`, { autoPong: false });
    clients.push(mute);
    expect(await mute.closed).toEqual({ code: 1008, reason: "Pong timeout" });
    const ended = await Promise.race([empty.closed, sleep(800).then(() => "open")]);
    expect(ended).toBe("open");
    expect(empty.pings.length).toBeGreaterThanOrEqual(5);
    expect(empty.ws.readyState).toBe(1);
  });
});

describe("endpoints derived from the tape", () => {
  it("1m klines: each candle's volume and count are the tape's 1-minute window sum and count; ticker/24hr totals the tape; price, bookTicker, avgPrice", async () => {
    const tape = generateTape({ seed: "klines", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 7 * 60_000, ratePerSec: 5 });
    const s = await serve({ tape, endOfTape: "close" });
    await get(s, "/api/v3/ping");
    await until(() => s.core.exchange.ended, 5_000, "the end of the tape");
    for (const symbol of tape.symbols) {
      const k: any[] = await get(s, `/api/v3/klines?symbol=${symbol}&interval=1m`);
      const oracle = windowOracle(tape, 60_000).filter((w) => w.symbol === symbol);
      expect(k.filter((c) => c[8] > 0).map((c) => [c[0], c[5], c[8]])).toEqual(oracle.map((w) => [w.start, formatFixed(w.quantity), w.count]));
      for (const c of k) expect(c[6]).toBe(c[0] + 59_999);
      const trades = tape.bySymbol.get(symbol)!;
      expect(k[0][1]).toBe(formatFixed(trades[0].price)); // open of the first candle: the first trade
      expect(k[k.length - 1][4]).toBe(formatFixed(trades[trades.length - 1].price)); // close of the last: the last trade
      const windowed: any[] = await get(s, `/api/v3/klines?symbol=${symbol}&interval=1m&startTime=${k[2][0]}&limit=2`);
      expect(windowed).toEqual(k.slice(2, 4));
      const five: any[] = await get(s, `/api/v3/klines?symbol=${symbol}&interval=5m`);
      expect(five.reduce((n, c) => n + c[8], 0)).toBe(trades.length);
      const t = await get(s, `/api/v3/ticker/24hr?symbol=${symbol}`);
      expect(t).toMatchObject({ symbol, count: trades.length, firstId: trades[0].id, lastId: trades[trades.length - 1].id, lastPrice: formatFixed(trades[trades.length - 1].price) });
      expect(t.volume).toBe(formatFixed(trades.reduce((q, x) => q + x.quantity, 0n)));
      expect(Number(t.bidPrice)).toBeLessThan(Number(t.askPrice));
    }
    expect((await fetch(`${s.httpUrl}/api/v3/klines?symbol=BTCUSDT&interval=7m`)).status).toBe(400);
    const btc = tape.bySymbol.get("BTCUSDT")!;
    expect(await get(s, "/api/v3/ticker/price?symbol=BTCUSDT")).toEqual({ symbol: "BTCUSDT", price: formatFixed(btc[btc.length - 1].price) });
    const top = await get(s, "/api/v3/ticker/bookTicker?symbol=BTCUSDT");
    const book = await get(s, "/api/v3/depth?symbol=BTCUSDT&limit=1");
    expect(top).toEqual({ symbol: "BTCUSDT", bidPrice: book.bids[0][0], bidQty: book.bids[0][1], askPrice: book.asks[0][0], askQty: book.asks[0][1] });
    const recent = btc.filter((t) => t.time > btc[btc.length - 1].time - 300_000);
    const vwap = (recent.reduce((q, t) => q + (t.price * t.quantity) / 100_000_000n, 0n) * 100_000_000n) / recent.reduce((q, t) => q + t.quantity, 0n);
    expect(await get(s, "/api/v3/avgPrice?symbol=BTCUSDT")).toEqual({ mins: 5, price: formatFixed(vwap), closeTime: btc[btc.length - 1].time });
    expect((await get(s, "/api/v3/ticker/price")).map((t: { symbol: string }) => t.symbol)).toEqual(["BTCUSDT", "ETHUSDT"]);
  });

  it("depth is synthesised from the last trade's price on the tape's tick grid, the same on every server", async () => {
    const tape = syntheticTape(["BTCUSDT"], 500);
    const books: { lastUpdateId: number; bids: string[][]; asks: string[][] }[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await serve({ tape, endOfTape: "close" });
      await get(s, "/api/v3/ping");
      await until(() => s.core.exchange.ended, 5_000, "the end of the tape");
      const r = await fetch(`${s.httpUrl}/api/v3/depth?symbol=BTCUSDT&limit=500`);
      expect(["25", "26"]).toContain(r.headers.get("x-mbx-used-weight-1m")); // depth(500) weighs 25, + ping 1 unless a minute began between
      books.push((await r.json()) as (typeof books)[number]);
    }
    expect(books[0]).toEqual(books[1]);
    const { lastUpdateId, bids, asks } = books[0];
    expect(lastUpdateId).toBe(1499);
    expect(bids).toHaveLength(500);
    expect(asks).toHaveLength(500);
    const last = tape.bySymbol.get("BTCUSDT")![499];
    expect([bids[0][0], asks[0][0]]).toContain(formatFixed(last.price));
    expect(Number(bids[0][0])).toBeLessThan(Number(asks[0][0]));
    for (let i = 1; i < 500; i++) expect(Number(bids[i][0])).toBeLessThan(Number(bids[i - 1][0]));
  });
});
