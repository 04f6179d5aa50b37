import { BatchInterceptor } from "@mswjs/interceptors";
import { ClientRequestInterceptor } from "@mswjs/interceptors/ClientRequest";
import { FetchInterceptor } from "@mswjs/interceptors/fetch";
import { WebSocketInterceptor } from "@mswjs/interceptors/WebSocket";
import { WebSocket as WsWebSocket } from "ws";
import { ExchangeCore, type ExchangeOptions } from "./server/core.ts";
import type { SessionPort } from "./server/session.ts";

/**
 * `intercept` mode: the production URLs (wss://stream.binance.com:9443/ws/..., and
 * https://api.binance.com/api/v3/...) are answered in process by the simulated exchange,
 * through @mswjs/interceptors; the source's code does not know. Every other HTTP request
 * gets a 502 and every other WebSocket is closed, so nothing leaks to the real network.
 *
 * Node 20 has no globalThis.WebSocket and the interceptor only patches that global, so ws's
 * class is installed first (and removed again on dispose). Intercepted sockets have no ping
 * frames, so the pong deadline does not apply here.
 */
export const STREAM_HOSTS = ["stream.binance.com", "data-stream.binance.vision"];
export const REST_HOSTS = ["api.binance.com", "api1.binance.com", "api2.binance.com", "api3.binance.com", "api4.binance.com", "data-api.binance.vision"];

export interface Interception {
  readonly core: ExchangeCore;
  dispose(): void;
}

const wallClock = () => Date.now(); // real-time: the intercepted exchange runs on the wall clock
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)); // real-time: the rest-timeout toxic holds an answer

export function interceptBinance(opts: ExchangeOptions & { clock?: () => number }): Interception {
  const core = new ExchangeCore(opts, opts.clock ?? wallClock);
  const g = globalThis as { WebSocket?: unknown };
  const hadWebSocket = g.WebSocket !== undefined;
  if (!hadWebSocket) g.WebSocket = WsWebSocket;

  const http = new BatchInterceptor({ name: "flinch-binance-http", interceptors: [new ClientRequestInterceptor(), new FetchInterceptor()] });
  const wsi = new WebSocketInterceptor();

  http.on("request", async ({ request, controller }) => {
    const url = new URL(request.url);
    if (!REST_HOSTS.includes(url.hostname)) {
      controller.respondWith(new Response(JSON.stringify({ error: `flinch intercept: no route to ${url.host}` }), { status: 502, headers: { "content-type": "application/json" } }));
      return;
    }
    const r = core.rest.handle(request.method, url, "127.0.0.1");
    if (r.delayMs) await sleep(r.delayMs);
    controller.respondWith(new Response(r.body, { status: r.status, headers: r.headers }));
  });

  wsi.on("connection", ({ client }) => {
    const url = client.url;
    if (!STREAM_HOSTS.includes(url.hostname)) {
      client.close(1011, `flinch intercept: no route to ${url.host}`);
      return;
    }
    let open = true;
    const port: SessionPort = {
      send: (text) => { if (open) client.send(text); },
      bufferedAmount: () => 0,
      close: (code, reason) => { if (open) { open = false; client.close(code, reason); } },
      terminate: () => { if (open) { open = false; client.close(1006, ""); } },
    };
    const r = core.open(url.pathname + url.search, port);
    if (!r.ok) {
      open = false;
      client.close(1011, r.reason);
      return;
    }
    const session = r.session;
    client.addEventListener("message", (e: MessageEvent) => session.onMessage(typeof e.data === "string" ? e.data : ""));
    client.addEventListener("close", () => { open = false; session.onClose(); });
  });

  http.apply();
  wsi.apply();
  return {
    core,
    dispose() {
      core.closeAll();
      wsi.dispose();
      http.dispose();
      if (!hadWebSocket) delete g.WebSocket;
    },
  };
}
