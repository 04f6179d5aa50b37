import WebSocket from "ws";
import { parseFixed } from "../../../engine/decimal.ts";
import type { Trade } from "../../../engine/connectors/binance/trade.ts";
import { buildTape, type Tape } from "../tape.ts";

/** A ws client that queues what it receives, for protocol tests. */
export interface TestClient {
  ws: WebSocket;
  messages: string[];
  /** Wall-clock ms when each message arrived (parallel to messages). */
  arrivals: number[];
  pings: string[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message not yet returned that matches `pred`. */
  next(pred: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

export function connect(url: string, opts: WebSocket.ClientOptions = {}): Promise<TestClient> {
  const ws = new WebSocket(url, opts);
  const messages: string[] = [];
  const arrivals: number[] = [];
  const pings: string[] = [];
  const waiters: (() => void)[] = [];
  ws.on("message", (d) => {
    messages.push(d.toString());
    arrivals.push(Date.now()); // real-time: tests bound arrival times from below
    for (const w of waiters.splice(0)) w();
  });
  ws.on("ping", (d) => pings.push(d.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const taken = new Set<number>();
  const parsed: unknown[] = [];
  const next = (pred: (m: any) => boolean, timeoutMs = 3000) =>
    new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${messages.slice(-3).join(" | ")}`)), timeoutMs); // real-time: test timeout
      let i = 0;
      const look = () => {
        for (; i < messages.length; i++) {
          if (taken.has(i)) continue;
          if (i >= parsed.length) for (let k = parsed.length; k <= i; k++) {
            try { parsed.push(JSON.parse(messages[k])); } catch { parsed.push(messages[k]); }
          }
          const m = parsed[i];
          if (pred(m)) {
            taken.add(i);
            clearTimeout(timer);
            return resolve(m);
          }
        }
        waiters.push(look);
      };
      look();
    });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, messages, arrivals, pings, closed, next }));
    ws.once("error", reject);
  });
}

/** A synthetic tape of n trades per symbol, fast to build (no generator), E = T = t0 + i ms. */
export function syntheticTape(symbols: string[], n: number, t0 = 1_723_161_255_000, firstId = 1000): Tape {
  const trades: Trade[] = [];
  for (const symbol of symbols) {
    for (let i = 0; i < n; i++) {
      trades.push({ symbol, id: firstId + i, price: parseFixed("61837.63") + BigInt(i % 100), quantity: parseFixed("0.001") + BigInt(i % 17), time: t0 + i, eventTime: t0 + i, isBuyerMaker: i % 3 === 0 });
    }
  }
  return buildTape(trades);
}

/** Polls `cond` every 10 ms until it holds; throws after timeoutMs. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs; // real-time: test timeout
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`); // real-time: test timeout
    await sleep(10);
  }
}

/** Gaps (ms of trade time) between the trades of a two-symbol tape, and whose each trade is: uneven, interleaved irregularly. */
const GAPS = [0, 300, 40, 500, 120, 260, 80, 400, 200, 60, 350, 150];
const WHO = ["BTCUSDT", "ETHUSDT", "ETHUSDT", "BTCUSDT", "ETHUSDT", "BTCUSDT", "BTCUSDT", "ETHUSDT", "BTCUSDT", "ETHUSDT", "BTCUSDT", "ETHUSDT"];

/** That tape, and its trades in trade-time order with their offsets from the first (all distinct). */
export function unevenTape(t0 = 1_723_161_255_000): { tape: Tape; order: { symbol: string; id: number; offset: number }[] } {
  const trades: Trade[] = [];
  const nextId: Record<string, number> = { BTCUSDT: 500, ETHUSDT: 9000 };
  let t = t0;
  const order: { symbol: string; id: number; offset: number }[] = [];
  for (let i = 0; i < GAPS.length; i++) {
    t += GAPS[i];
    const symbol = WHO[i];
    const id = nextId[symbol]++;
    trades.push({ symbol, id, price: parseFixed("100.5") + BigInt(i), quantity: parseFixed("0.25"), time: t, eventTime: t, isBuyerMaker: i % 2 === 0 });
    order.push({ symbol, id, offset: t - t0 });
  }
  return { tape: buildTape(trades), order };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)); // real-time: test pacing
