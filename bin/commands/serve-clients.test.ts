import { MainClient, WebsocketClient } from "binance";
import { afterEach, describe, expect, it } from "vitest";
import { formatFixed } from "../../engine/decimal.ts";
import type { ExchangeServer } from "../../sim/binance/server/server.ts";
import { until } from "../../sim/binance/server/test-helpers.ts";
import { startServe } from "./serve.ts";

/**
 * A smoke test with another popular client library, `binance` (tiagosiebler / sieblyio), its
 * REST base URL and WebSocket URL pointed at `flinch serve`. Its ws client connects to one URL
 * (it appends /stream) and subscribes with SUBSCRIBE messages, and unwraps the combined `{stream, data}` wrapper.
 */
const servers: ExchangeServer[] = [];
const wsClients: WebsocketClient[] = [];
afterEach(async () => {
  for (const c of wsClients.splice(0)) c.closeAll(true);
  for (const s of servers.splice(0)) await s.close();
});
const quiet = { trace() {}, info() {}, error() {} };

describe("the `binance` client library against flinch serve", () => {
  it("REST market endpoints and a SUBSCRIBE'd trade stream", async () => {
    const server = await startServe(["--seed", "siebly", "--minutes", "1", "--speed", "20x", "--port", "0"], () => {});
    servers.push(server);
    const tape = server.core.exchange.tape;
    const btc = tape.bySymbol.get("BTCUSDT")!;

    // The stream first: its subscription starts the market, so it sees the tape from its first trade.
    const ws = new WebsocketClient({ wsUrl: server.wsUrl, restOptions: { baseUrl: server.httpUrl } }, quiet);
    wsClients.push(ws);
    const live: number[] = [];
    ws.on("message", (m: any) => { if (m?.e === "trade" && m.s === "BTCUSDT") live.push(m.t); }); // it unwraps {stream, data}
    await ws.subscribeSpotTrades("BTCUSDT");
    await until(() => live.length >= 50, 10_000, "50 trades through the client");
    expect(live.slice(0, 50)).toEqual(btc.slice(0, 50).map((t) => t.id));

    const rest = new MainClient({ baseUrl: server.httpUrl });
    const info = await rest.getExchangeInfo();
    const sym = info.symbols.find((s) => s.symbol === "BTCUSDT")!;
    expect(sym.filters.map((f) => f.filterType)).toEqual(expect.arrayContaining(["PRICE_FILTER", "LOT_SIZE", "NOTIONAL"]));
    expect(await rest.testConnectivity()).toEqual({}); // (its getServerTime always asks the real host, whatever baseUrl says)
    const hist = await rest.getHistoricalTrades({ symbol: "BTCUSDT", fromId: btc[0].id, limit: 20 });
    expect(hist.map((t) => t.id)).toEqual(btc.slice(0, 20).map((t) => t.id));
    const recent = await rest.getRecentTrades({ symbol: "BTCUSDT", limit: 5 });
    expect(recent).toHaveLength(5);
    const k = await rest.getKlines({ symbol: "BTCUSDT", interval: "1m", limit: 1 });
    expect(k).toHaveLength(1);
    expect(k[0][1]).toBe(formatFixed(btc[0].price)); // the first candle opens at the first trade
    const book = await rest.getOrderBook({ symbol: "BTCUSDT", limit: 5 });
    expect([book.bids.length, book.asks.length]).toEqual([5, 5]);
    const t24 = (await rest.get24hrChangeStatistics({ symbol: "BTCUSDT" })) as { count: number; firstId: number };
    expect(t24.firstId).toBe(btc[0].id);
    expect(t24.count).toBeGreaterThan(0);
  }, 20_000);
});
