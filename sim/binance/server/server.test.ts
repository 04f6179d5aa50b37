import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { BINANCE_EXCHANGE_LIMITS } from "./core.ts";
import { startExchangeServer, type ExchangeServer, type ExchangeServerOptions } from "./server.ts";
import type { SessionPort } from "./session.ts";
import { connect, sleep, syntheticTape } from "./test-helpers.ts";

/** Attempts a WebSocket upgrade that the server is expected to refuse; resolves with its HTTP answer. */
function refusal(url: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("unexpected-response", (req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body });
      });
    });
    ws.on("open", () => {
      ws.terminate();
      reject(new Error(`${url}: connected, expected a refusal`));
    });
    ws.on("error", reject);
  });
}

const nullPort: SessionPort = { send() {}, bufferedAmount: () => 0, close() {}, terminate() {} };

const servers: ExchangeServer[] = [];
async function serve(o: Partial<ExchangeServerOptions> = {}): Promise<ExchangeServer> {
  const s = await startExchangeServer({ tape: syntheticTape(["BTCUSDT", "ETHUSDT"], 2000), ...o });
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe("stream endpoint: control messages", () => {
  it("SUBSCRIBE, LIST_SUBSCRIPTIONS and UNSUBSCRIBE answer with the request's id", async () => {
    const s = await serve();
    const c = await connect(`${s.wsUrl}/ws`);
    c.ws.send(JSON.stringify({ method: "SUBSCRIBE", params: ["btcusdt@trade", "ethusdt@trade"], id: 1 }));
    expect(await c.next((m) => m.id === 1)).toEqual({ result: null, id: 1 });
    c.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 2 }));
    expect(await c.next((m) => m.id === 2)).toEqual({ result: ["btcusdt@trade", "ethusdt@trade"], id: 2 });
    c.ws.send(JSON.stringify({ method: "UNSUBSCRIBE", params: ["ethusdt@trade"], id: 3 }));
    expect(await c.next((m) => m.id === 3)).toEqual({ result: null, id: 3 });
    c.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 4 }));
    expect(await c.next((m) => m.id === 4)).toEqual({ result: ["btcusdt@trade"], id: 4 });
    // raw endpoint: bare payloads, no wrapper
    const t = await c.next((m) => m.e === "trade");
    expect(t.s).toBe("BTCUSDT");
    c.ws.close();
  });

  it("answers bad control messages with Binance's error replies", async () => {
    const s = await serve({ limits: { maxIncomingPerSec: 100 } });
    const c = await connect(`${s.wsUrl}/ws`);
    const ask = async (raw: string, id: number | null) => {
      c.ws.send(raw);
      return c.next((m) => typeof m === "object" && "error" in m && m.id === id);
    };
    expect((await ask(JSON.stringify({ method: "SUBSCRIBEE", params: [], id: 1 }), 1)).error).toMatchObject({ code: 2, msg: expect.stringContaining("unknown variant `SUBSCRIBEE`") });
    expect((await ask(JSON.stringify({ method: "SUBSCRIBE", params: "btcusdt@trade", id: 2 }), 2)).error.code).toBe(2);
    expect((await ask(JSON.stringify({ method: "SUBSCRIBE", params: ["BTCUSDT@TRADE"], id: 3 }), 3)).error.code).toBe(2);
    expect((await ask(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: -1 }), null)).error).toEqual({ code: 2, msg: "Invalid request: request ID must be an unsigned integer" });
    expect((await ask(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: "x" }), null)).error.msg).toBe("Invalid request: request ID must be an unsigned integer");
    expect((await ask(JSON.stringify({ params: [], id: 6 }), 6)).error.msg).toMatch(/missing field `method`/);
    expect((await ask("{not json", null)).error.code).toBe(3);
    expect((await ask(JSON.stringify({ method: "SET_PROPERTY", params: ["combined", "yes"], id: 8 }), 8)).error).toEqual({ code: 1, msg: "Invalid value type: expected Boolean" });
    expect((await ask(JSON.stringify({ method: "SET_PROPERTY", params: ["colour", true], id: 9 }), 9)).error).toEqual({ code: 0, msg: "Unknown property" });
    expect((await ask(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", params: ["x"], id: 10 }), 10)).error.msg).toBe("Invalid request: too many parameters");
    c.ws.send(JSON.stringify({ method: "SET_PROPERTY", params: ["combined", true], id: 11 }));
    expect(await c.next((m) => m.id === 11)).toEqual({ result: null, id: 11 });
    c.ws.send(JSON.stringify({ method: "GET_PROPERTY", params: ["combined"], id: 12 }));
    expect(await c.next((m) => m.id === 12)).toEqual({ result: true, id: 12 });
    c.ws.close();
  });

  it("the combined endpoint wraps every payload as {stream, data} and sends each trade once, in id order", async () => {
    const s = await serve();
    const c = await connect(`${s.wsUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    const last = await c.next((m) => m.stream === "ethusdt@trade" && m.data.t === 2999, 5000);
    expect(last.data.s).toBe("ETHUSDT");
    await c.next((m) => m.stream === "btcusdt@trade" && m.data.t === 2999, 5000);
    const by = new Map<string, number[]>();
    for (const raw of c.messages) {
      const m = JSON.parse(raw);
      if (!by.has(m.stream)) by.set(m.stream, []);
      by.get(m.stream)!.push(m.data.t);
    }
    for (const ids of by.values()) expect(ids).toEqual(Array.from({ length: 2000 }, (_, i) => 1000 + i));
    c.ws.close();
  });
});

describe("stream endpoint: limits", () => {
  it("pings on schedule; a client that echoes the payload stays, one that does not is closed at the pong deadline", async () => {
    const s = await serve({ limits: { pingIntervalMs: 300, pongTimeoutMs: 500 } });
    const good = await connect(`${s.wsUrl}/ws`);
    const mute = await connect(`${s.wsUrl}/ws`, { autoPong: false });
    const liar = await connect(`${s.wsUrl}/ws`, { autoPong: false });
    liar.ws.on("ping", () => liar.ws.pong("not-the-payload"));
    const t0 = Date.now(); // real-time: test measures the deadline
    const closedMute = await mute.closed;
    const waited = Date.now() - t0; // real-time: test
    expect(closedMute).toEqual({ code: 1008, reason: "Pong timeout" });
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThan(1500);
    expect((await liar.closed).reason).toBe("Pong timeout");
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    expect(good.pings.length).toBeGreaterThanOrEqual(2);
    expect(new Set(good.pings).size).toBe(good.pings.length);
    good.ws.close();
  });

  it("closes a connection that sends more than 5 messages per second with 1008 Too many requests (pings count)", async () => {
    const s = await serve();
    const c = await connect(`${s.wsUrl}/ws`);
    for (let i = 1; i <= 6; i++) c.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: i }));
    expect(await c.closed).toEqual({ code: 1008, reason: "Too many requests" });
    expect(c.messages.map((m) => JSON.parse(m).id)).toEqual([1, 2, 3, 4, 5]);

    const p = await connect(`${s.wsUrl}/ws`);
    for (let i = 0; i < 6; i++) p.ws.ping("x");
    expect((await p.closed).code).toBe(1008);

    const slow = await connect(`${s.wsUrl}/ws`);
    for (let i = 1; i <= 5; i++) slow.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: i }));
    await sleep(1050);
    for (let i = 6; i <= 9; i++) slow.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: i }));
    await slow.next((m) => m.id === 9);
    expect(slow.ws.readyState).toBe(WebSocket.OPEN);
    slow.ws.close();
  });

  it("allows 1024 streams per connection and refuses the 1025th, by SUBSCRIBE or in the URL", async () => {
    const s = await serve();
    const names = Array.from({ length: 1024 }, (_, i) => `s${i}@trade`);
    const c = await connect(`${s.wsUrl}/ws`);
    c.ws.send(JSON.stringify({ method: "SUBSCRIBE", params: names, id: 1 }));
    expect(await c.next((m) => m.id === 1)).toEqual({ result: null, id: 1 });
    c.ws.send(JSON.stringify({ method: "SUBSCRIBE", params: ["one@trade"], id: 2 }));
    expect((await c.next((m) => m.id === 2)).error.msg).toMatch(/at most 1024/);
    c.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 3 }));
    expect((await c.next((m) => m.id === 3)).result).toHaveLength(1024);
    c.ws.close();
    const url = `${s.wsUrl}/stream?streams=${[...names, "one@trade"].join("/")}`;
    await expect(connect(url)).rejects.toThrow(/400/);
  });

  it("closes with 1009 when a message exceeds maxPayload", async () => {
    const s = await serve({ limits: { maxPayload: 1024 } });
    const c = await connect(`${s.wsUrl}/ws`);
    c.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", params: [], id: 1, pad: "x".repeat(2000) }));
    expect((await c.closed).code).toBe(1009);
  });

  it("refuses connection attempts over the per-IP limit with HTTP 429 and an exact Retry-After; the window slides", async () => {
    expect(BINANCE_EXCHANGE_LIMITS).toMatchObject({ maxConnectAttempts: 300, connectAttemptWindowMs: 300_000 });
    expect((await serve()).core.limits).toMatchObject({ maxConnectAttempts: 300, connectAttemptWindowMs: 300_000 });
    let now = 1_000_000;
    const s = await serve({ clock: () => now, limits: { maxConnectAttempts: 3, connectAttemptWindowMs: 10_000 } });
    const a = await connect(`${s.wsUrl}/ws/btcusdt@trade`); // attempt 1, t = 0 s
    now += 1_000;
    await expect(connect(`${s.wsUrl}/nowhere`)).rejects.toThrow(/404/); // attempt 2: failed attempts count too
    now += 1_000;
    const b = await connect(`${s.wsUrl}/ws`); // attempt 3, t = 2 s
    const r = await refusal(`${s.wsUrl}/ws/btcusdt@trade`);
    expect(r.status).toBe(429);
    expect(r.retryAfter).toBe("8"); // attempt 1 leaves the window at t = 10 s
    expect(r.body).toMatch(/too many connection attempts/);
    now = 1_009_999;
    expect((await refusal(`${s.wsUrl}/ws`)).retryAfter).toBe("1");
    now = 1_010_000; // refused attempts did not count: attempt 1 has left, so there is room for one
    const c = await connect(`${s.wsUrl}/ws`);
    expect((await refusal(`${s.wsUrl}/ws`)).retryAfter).toBe("1"); // attempt 2 leaves at t = 11 s
    expect(s.core.counts.rateLimited).toBe(3);
    // The limit is on attempts, not on open connections: the admitted ones keep working.
    a.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 1 }));
    expect(await a.next((m) => m.id === 1)).toEqual({ result: ["btcusdt@trade"], id: 1 });
    expect([b.ws.readyState, c.ws.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
    // Per IP: another address still gets in while this one is refused.
    expect(s.core.open("/ws", nullPort, "127.0.0.1").ok).toBe(false);
    expect(s.core.open("/ws", nullPort, "10.1.2.3").ok).toBe(true);
    for (const x of [a, b, c]) x.ws.close();
  });

  it("ends a connection at the end of its lifetime", async () => {
    const s = await serve({ limits: { lifetimeMs: 200 } });
    const c = await connect(`${s.wsUrl}/ws`);
    expect(await c.closed).toEqual({ code: 1001, reason: "Connection lifetime exceeded" });
  });

  it("disconnects a slow client instead of buffering without bound", async () => {
    const s = await serve({ tape: syntheticTape(["BTCUSDT"], 200_000), pace: { speed: 1e9 }, limits: { slowClientBytes: 256 * 1024 } });
    const c = await connect(`${s.wsUrl}/ws/btcusdt@trade`);
    (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    for (let i = 0; i < 100 && s.core.sessions.size > 0; i++) await sleep(50);
    expect(s.core.sessions.size).toBe(0);
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await c.closed).code).toBe(1006);
    expect(c.messages.length).toBeLessThan(200_000);
  });

  it("at max pace waits for a reader that pauses and delivers everything once it reads again", async () => {
    const s = await serve({ tape: syntheticTape(["BTCUSDT"], 60_000) });
    const c = await connect(`${s.wsUrl}/ws/btcusdt@trade`);
    const sock = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    sock.pause();
    await sleep(200);
    expect(s.core.sessions.size).toBe(1);
    sock.resume();
    await c.next((m) => m.t === 60_999, 10_000);
    expect(c.messages.length).toBe(60_000);
    expect(c.messages.every((raw, i) => JSON.parse(raw).t === 1000 + i)).toBe(true); // each once, in id order
    c.ws.close();
  });
});
