import { afterEach, describe, expect, it } from "vitest";
import type { FeedFaultPlan } from "../toxics.ts";
import { startExchangeServer, type ExchangeServer, type ExchangeServerOptions } from "./server.ts";
import { connect, syntheticTape, unevenTape, until, type TestClient } from "./test-helpers.ts";

/**
 * Real sockets on 127.0.0.1, real time: timing is only ever bounded from below (a frame can
 * be late on a loaded machine, never early), order and counts are exact.
 */
const servers: ExchangeServer[] = [];
async function serve(o: ExchangeServerOptions): Promise<ExchangeServer> {
  const s = await startExchangeServer(o);
  servers.push(s);
  return s;
}
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const s of servers.splice(0)) await s.close();
});
async function open(url: string): Promise<TestClient> {
  const c = await connect(url);
  clients.push(c);
  return c;
}
const now = () => Date.now(); // real-time: tests bound arrival times from below

function tradesOf(c: TestClient): { stream: string; id: number; at: number }[] {
  const out: { stream: string; id: number; at: number }[] = [];
  c.messages.forEach((raw, i) => {
    const m = JSON.parse(raw);
    if (m.stream) out.push({ stream: m.stream, id: m.data.t, at: c.arrivals[i] });
  });
  return out;
}

describe("as-recorded pace on the real server", () => {
  it("at speed N releases the trades of all streams in trade-time order, trade k no sooner than offset_k / N after the connection", async () => {
    const { tape, order } = unevenTape();
    const N = 4;
    const s = await serve({ tape, pace: { speed: N } });
    const t0 = now(); // the paced clock starts at the subscription, after this
    const c = await open(`${s.wsUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    await until(() => c.messages.length >= order.length, 8_000, "all trades");
    const got = tradesOf(c);
    expect(got.map((g) => `${g.stream} ${g.id}`)).toEqual(order.map((o) => `${o.symbol.toLowerCase()}@trade ${o.id}`));
    expect(c.messages).toHaveLength(order.length);
    // Trade k is published (offset_k / N) ms after the subscription: never earlier.
    for (let k = 0; k < got.length; k++) expect(got[k].at - t0).toBeGreaterThanOrEqual(order[k].offset / N - 1);
    // ...so the whole tape (2460 ms of trade time) takes at least 2460 / N ms.
    expect(got[got.length - 1].at - t0).toBeGreaterThanOrEqual(order[order.length - 1].offset / N - 1);
  });
});

describe("the latency toxic on the real server", () => {
  it("holds every frame (trades and replies) at least meanMs, and delivers each trade once, in order", async () => {
    const meanMs = 120;
    const plan: FeedFaultPlan = { toxics: [{ kind: "latency", meanMs, jitterMs: 80 }] };
    const s = await serve({ tape: syntheticTape(["BTCUSDT", "ETHUSDT"], 300), plan, seed: "lat" });
    const t0 = now();
    const c = await open(`${s.wsUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    await until(() => c.messages.length >= 600, 5_000, "600 trades");
    const got = tradesOf(c);
    expect(got).toHaveLength(600);
    for (const stream of ["btcusdt@trade", "ethusdt@trade"]) {
      expect(got.filter((g) => g.stream === stream).map((g) => g.id)).toEqual(Array.from({ length: 300 }, (_, i) => 1000 + i));
    }
    expect(Math.min(...got.map((g) => g.at)) - t0).toBeGreaterThanOrEqual(meanMs - 1);
    // A reply waits in the same line.
    const t1 = now();
    c.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 7 }));
    expect(await c.next((m) => m.id === 7)).toEqual({ result: ["btcusdt@trade", "ethusdt@trade"], id: 7 });
    expect(c.messages).toHaveLength(601);
    expect(c.arrivals[600] - t1).toBeGreaterThanOrEqual(meanMs - 1);
  });

  it("adds delay only: with the other toxics, the frames are exactly those of the same seed without latency, in the same order", async () => {
    const toxics: FeedFaultPlan["toxics"] = [
      { kind: "reorder", probability: 0.2, window: 4 }, { kind: "duplicate", probability: 0.1 },
      { kind: "drop", probability: 0.05 }, { kind: "malformed", probability: 0.05 },
    ];
    const tape = syntheticTape(["BTCUSDT"], 400);
    const run = async (plan: FeedFaultPlan) => {
      const s = await serve({ tape, plan, seed: "same" });
      const t0 = now();
      const c = await open(`${s.wsUrl}/ws/btcusdt@trade`);
      // Every frame has been decided once the exchange's cursor is at the end; a reply sent
      // after that comes after all of them on this connection.
      await until(() => s.core.exchange.book("BTCUSDT")!.published === 400, 5_000, "tape decided");
      c.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 99 }));
      await c.next((m) => m.id === 99);
      const frames = c.messages.slice(0, -1);
      return { frames, first: c.arrivals[0] - t0 };
    };
    const plain = await run({ toxics });
    const late = await run({ toxics: [...toxics, { kind: "latency", meanMs: 60, jitterMs: 90 }] });
    expect(late.frames).toEqual(plain.frames);
    expect(late.first).toBeGreaterThanOrEqual(59);
    // The toxics did fire: reordered, duplicated, dropped and malformed frames are all there.
    const ids = plain.frames.map((f): unknown => { try { return JSON.parse(f).t; } catch { return undefined; } });
    const valid = ids.filter((x): x is number => Number.isInteger(x));
    expect(valid.some((x, i) => i > 0 && x < valid[i - 1])).toBe(true);
    expect(new Set(valid).size).toBeLessThan(valid.length);
    expect(new Set(valid).size).toBeLessThan(400);
    expect(ids.some((x) => !Number.isInteger(x))).toBe(true);
  });
});
