import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { formatFixed, parseFixed } from "../../engine/decimal.ts";
import { windowOracle } from "../../scenarios/oracle.ts";
import type { ExchangeServer } from "../../sim/binance/server/server.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import { until } from "../../sim/binance/server/test-helpers.ts";
import { startServe } from "./serve.ts";

/**
 * `flinch serve` (its argument parsing and server, without the wait for Ctrl-C) seen by the
 * official Binance connector, @binance/connector, with its base URLs pointed at it: REST market
 * endpoints through `Spot`, the trade and combined streams through `WebsocketStream`.
 */
type Res<T = any> = Promise<{ data: T; headers: Record<string, string> }>;
interface SpotClient {
  ping(): Res; time(): Res; exchangeInfo(o?: object): Res;
  trades(symbol: string, o?: object): Res<any[]>; historicalTrades(symbol: string, o?: object): Res<any[]>; aggTrades(symbol: string, o?: object): Res<any[]>;
  klines(symbol: string, interval: string, o?: object): Res<any[]>; depth(symbol: string, o?: object): Res;
  ticker24hr(symbol?: string, symbols?: string[], type?: string): Res;
}
interface StreamClient { trade(symbol: string): void; subscribe(streams: string | string[]): void; disconnect(): void }
type Callbacks = { open?: () => void; message?: (data: string) => void; close?: () => void };
const { Spot, WebsocketStream } = createRequire(import.meta.url)("@binance/connector") as {
  Spot: new (key: string, secret: string, o: { baseURL: string; logger: object }) => SpotClient;
  WebsocketStream: new (o: { wsURL: string; logger: object; callbacks: Callbacks; combinedStreams?: boolean }) => StreamClient;
};
const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {} };

const servers: ExchangeServer[] = [];
const streams: StreamClient[] = [];
afterEach(async () => {
  for (const c of streams.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.close();
});
async function serve(args: string[]): Promise<{ server: ExchangeServer; tape: Tape; log: string[] }> {
  const log: string[] = [];
  const server = await startServe([...args, "--port", "0"], (l) => log.push(l));
  servers.push(server);
  return { server, tape: server.core.exchange.tape, log };
}

describe("@binance/connector against flinch serve", () => {
  it("REST: exchangeInfo with filters, time, trades, historicalTrades, aggTrades, klines, depth, ticker/24hr", async () => {
    const { server, tape, log } = await serve(["--seed", "conn", "--minutes", "3"]);
    const spot = new Spot("", "", { baseURL: server.httpUrl, logger: quiet });
    expect((await spot.ping()).data).toEqual({});
    await until(() => server.core.exchange.ended, 5_000, "the end of the tape");
    expect(log.at(-1)).toMatch(/end of tape after \d+ trades; stream connections close with 1000 "end of tape"/);
    const btc = tape.bySymbol.get("BTCUSDT")!;
    const n = btc.length;

    const info = await spot.exchangeInfo();
    expect(Number(info.headers["x-mbx-used-weight-1m"])).toBeGreaterThanOrEqual(20);
    const sym = info.data.symbols.find((s: { symbol: string }) => s.symbol === "BTCUSDT");
    expect(sym).toMatchObject({ status: "TRADING", baseAsset: "BTC", quoteAsset: "USDT", baseAssetPrecision: 8, quotePrecision: 8, isSpotTradingAllowed: true, permissionSets: [["SPOT"]] });
    expect(sym.orderTypes).toContain("LIMIT");
    const filter = (type: string) => sym.filters.find((f: { filterType: string }) => f.filterType === type);
    for (const t of ["PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL", "MIN_NOTIONAL"]) expect(filter(t)).toBeDefined();
    const tick = parseFixed(filter("PRICE_FILTER").tickSize), step = parseFixed(filter("LOT_SIZE").stepSize);
    expect(btc.every((t) => t.price % tick === 0n && t.quantity % step === 0n && t.price <= parseFixed(filter("PRICE_FILTER").maxPrice))).toBe(true);

    expect(typeof (await spot.time()).data.serverTime).toBe("number");
    expect((await spot.trades("BTCUSDT", { limit: 3 })).data.map((t: { id: number }) => t.id)).toEqual(btc.slice(-3).map((t) => t.id));
    const hist = (await spot.historicalTrades("BTCUSDT", { fromId: btc[10].id, limit: 5 })).data;
    expect(hist).toEqual(btc.slice(10, 15).map((t) => expect.objectContaining({ id: t.id, price: formatFixed(t.price), qty: formatFixed(t.quantity), time: t.time, isBuyerMaker: t.isBuyerMaker })));

    let aggQty = 0n, from = 0, aggTrades = 0;
    for (;;) {
      const page = (await spot.aggTrades("BTCUSDT", { fromId: from, limit: 1000 })).data;
      for (const a of page) { aggQty += parseFixed(a.q); aggTrades += a.l - a.f + 1; }
      if (page.length < 1000) break;
      from = page[page.length - 1].a + 1;
    }
    expect([aggTrades, aggQty]).toEqual([n, btc.reduce((q, t) => q + t.quantity, 0n)]);

    const k = (await spot.klines("BTCUSDT", "1m")).data;
    const oracle = windowOracle(tape, 60_000).filter((w) => w.symbol === "BTCUSDT");
    expect(k.filter((c) => c[8] > 0).map((c) => [c[0], c[5], c[8]])).toEqual(oracle.map((w) => [w.start, formatFixed(w.quantity), w.count]));
    const two = (await spot.klines("BTCUSDT", "1m", { startTime: k[1][0], endTime: k[2][0] })).data;
    expect(two).toEqual(k.slice(1, 3));

    const book = (await spot.depth("BTCUSDT", { limit: 10 })).data;
    expect([book.lastUpdateId, book.bids.length, book.asks.length]).toEqual([btc[n - 1].id, 10, 10]);
    const t24 = (await spot.ticker24hr("BTCUSDT")).data;
    expect(t24).toMatchObject({ symbol: "BTCUSDT", count: n, firstId: btc[0].id, lastId: btc[n - 1].id, lastPrice: formatFixed(btc[n - 1].price) });
    expect((await spot.ticker24hr("", ["BTCUSDT", "ETHUSDT"], "MINI")).data.map((t: { symbol: string }) => t.symbol)).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect((await spot.ticker24hr()).data).toHaveLength(2);
  });

  it("WebsocketStream: a trade stream sees the live market from the start; a combined stream that joins later backfills with historicalTrades to exactly the tape", async () => {
    const { server, tape } = await serve(["--seed", "conn-ws", "--minutes", "1", "--speed", "20x"]); // 3 s of market
    const spot = new Spot("", "", { baseURL: server.httpUrl, logger: quiet });
    const last = (s: string) => tape.bySymbol.get(s)!.at(-1)!.id;
    const raw: number[] = [];
    const combined = new Map<string, number[]>([["btcusdt@trade", []], ["ethusdt@trade", []]]);
    let rawDone!: () => void, combinedDone!: () => void;
    const rawEnd = new Promise<void>((r) => (rawDone = r)), combinedEnd = new Promise<void>((r) => (combinedDone = r));
    const a: StreamClient = new WebsocketStream({ wsURL: server.wsUrl, logger: quiet, callbacks: { message: (d) => {
      const m = JSON.parse(d);
      raw.push(m.t);
      if (m.t === last("BTCUSDT")) { a.disconnect(); rawDone(); }
    } } });
    streams.push(a);
    a.trade("BTCUSDT");
    await until(() => raw.length >= 100, 5_000, "the first trades on the raw stream");
    let left = 2;
    const b: StreamClient = new WebsocketStream({ wsURL: server.wsUrl, logger: quiet, combinedStreams: true, callbacks: { message: (d) => {
      const m = JSON.parse(d);
      combined.get(m.stream)!.push(m.data.t);
      if (m.data.t === last(m.data.s) && --left === 0) { b.disconnect(); combinedDone(); }
    } } });
    streams.push(b);
    b.subscribe(["btcusdt@trade", "ethusdt@trade"]);
    await Promise.all([rawEnd, combinedEnd]);
    const tapeIds = (s: string) => tape.bySymbol.get(s)!.map((t) => t.id);
    expect(raw).toEqual(tapeIds("BTCUSDT"));
    for (const s of ["BTCUSDT", "ETHUSDT"]) {
      const live = combined.get(`${s.toLowerCase()}@trade`)!;
      expect(live[0]).toBeGreaterThan(tapeIds(s)[0]); // it joined late...
      const backfill: number[] = [];
      for (let from = tapeIds(s)[0]; from < live[0];) {
        const page = (await spot.historicalTrades(s, { fromId: from, limit: 1000 })).data;
        for (const t of page) if (t.id < live[0]) backfill.push(t.id);
        from = page[page.length - 1].id + 1;
      }
      expect([...backfill, ...live]).toEqual(tapeIds(s)); // ...and REST fills in exactly what it missed
    }
  }, 20_000);
});
