import { WebSocketServer, WebSocket } from "ws";
import { BinanceStreamFeed } from "../engine/connectors/binance/adapters/stream-feed.ts";
import { FEED_ENDED } from "../engine/connectors/binance/feed.ts";
import type { Trade } from "../engine/connectors/binance/trade.ts";
import { Kernel } from "../engine/kernel/kernel.ts";
import { startExchangeServer } from "../sim/binance/server/server.ts";
import { syntheticTape } from "../sim/binance/server/test-helpers.ts";
import { tradeToPayload } from "../engine/connectors/binance/codec.ts";

/**
 * Loopback throughput of the Binance feed: `flinch serve`'s server at max pace → the source's
 * ws transport (parse, order, dedupe), against a raw `ws` server → client sending the same
 * frames with nothing else. Both in this process, one after the other.
 */
export async function benchFeed(n = 200_000): Promise<{ serverToSourceMsgsPerSec: number; rawWsMsgsPerSec: number; ratio: number }> {
  const tape = syntheticTape(["BTCUSDT"], n);
  const trades = tape.bySymbol.get("BTCUSDT")!;

  // flinch server -> BinanceStreamFeed
  const server = await startExchangeServer({ tape });
  let serverToSource: number;
  try {
    const feed = new BinanceStreamFeed({ symbols: ["BTCUSDT"], wsBase: server.wsUrl, restBase: server.httpUrl, range: { BTCUSDT: { firstId: trades[0].id, lastId: trades[n - 1].id } }, seed: "bench" });
    const t0 = performance.now(); // real-time: benchmark
    serverToSource = await new Promise<number>((resolve) => {
      let got = 0;
      const out: Trade[] = [];
      let ended = false;
      // Like the engine's real-time loop: data wakes one poll that takes everything that arrived.
      let queued = false;
      const sub = feed.subscribe("BTCUSDT", new Kernel("bench"), undefined, () => {
        if (ended || queued) return;
        queued = true;
        setImmediate(drain); // real-time: benchmark
      });
      const drain = () => {
        queued = false;
        if (ended) return;
        out.length = 0;
        const r = sub.poll(0, 1 << 20, out);
        got += out.length;
        if (r === FEED_ENDED) {
          ended = true;
          sub.close();
          resolve(got);
        }
      };
    }).then((got) => {
      if (got !== n) throw new Error(`benchFeed: source got ${got} of ${n} trades`);
      return n / ((performance.now() - t0) / 1000); // real-time: benchmark
    });
  } finally {
    await server.close();
  }

  // raw ws baseline: the same frames, no protocol, no parsing beyond counting
  const frames = trades.map((t) => JSON.stringify(tradeToPayload(t)));
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const port = (wss.address() as { port: number }).port;
  wss.on("connection", (ws) => {
    let i = 0;
    const sock = (ws as unknown as { _socket: NodeJS.EventEmitter })._socket;
    const pump = () => {
      while (i < frames.length) {
        ws.send(frames[i++]);
        if (ws.bufferedAmount > 512 * 1024) return void sock.once("drain", pump);
      }
    };
    pump();
  });
  const t1 = performance.now(); // real-time: benchmark
  const raw = await new Promise<number>((resolve) => {
    const c = new WebSocket(`ws://127.0.0.1:${port}`);
    let got = 0;
    c.on("message", () => {
      if (++got === n) {
        c.terminate();
        resolve(n / ((performance.now() - t1) / 1000)); // real-time: benchmark
      }
    });
  });
  await new Promise<void>((r) => wss.close(() => r()));
  for (const c of wss.clients) c.terminate();
  return { serverToSourceMsgsPerSec: Math.round(serverToSource), rawWsMsgsPerSec: Math.round(raw), ratio: Math.round((serverToSource / raw) * 100) / 100 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchFeed().then((r) => console.log(JSON.stringify(r)));
}
