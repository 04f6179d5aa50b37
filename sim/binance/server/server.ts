import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { ExchangeCore, type ExchangeOptions } from "./core.ts";
import type { SessionPort } from "./session.ts";

/**
 * The simulated Binance exchange on real sockets: one node:http server answers REST
 * (`/api/v3/...`) and upgrades stream connections (`/ws/...`, `/stream?streams=...`) with
 * `ws`. Both URLs share the port; `flinch serve` prints them.
 */
export interface ExchangeServerOptions extends ExchangeOptions {
  host?: string;
  port?: number;
  clock?: () => number;
}

export interface ExchangeServer {
  /** ws://host:port — append /ws/<stream> or /stream?streams=... */
  readonly wsUrl: string;
  /** http://host:port — append /api/v3/... */
  readonly httpUrl: string;
  readonly port: number;
  readonly core: ExchangeCore;
  close(): Promise<void>;
}

const realClock = () => Date.now(); // real-time: the served exchange runs on the wall clock

export async function startExchangeServer(opts: ExchangeServerOptions): Promise<ExchangeServer> {
  const core = new ExchangeCore(opts, opts.clock ?? realClock);
  core.exchange.preEncode();
  const wss = new WebSocketServer({ noServer: true, maxPayload: core.limits.maxPayload, perMessageDeflate: false });
  const held = new Set<NodeJS.Timeout>();

  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const r = core.rest.handle(req.method ?? "GET", new URL(req.url ?? "/", "http://x"), req.socket.remoteAddress ?? "?");
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    };
    if (r.delayMs) {
      const t = setTimeout(() => { held.delete(t); send(); }, r.delayMs); // real-time: the rest-timeout toxic holds the answer
      held.add(t);
    } else send();
  });

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The session is opened before the handshake so a refusal can answer with an HTTP status;
    // ws completes the handshake synchronously, and anything sent before that waits in the port.
    const port = new WsPort();
    const r = core.open(req.url ?? "/", port, req.socket.remoteAddress ?? "?");
    if (!r.ok) {
      const retry = r.retryAfterMs !== undefined ? `Retry-After: ${Math.max(1, Math.ceil(r.retryAfterMs / 1000))}\r\n` : "";
      const body = `${r.reason}\n`;
      socket.end(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? "Error"}\r\n${retry}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      port.bind(ws);
      const s = r.session;
      ws.on("message", (data, isBinary) => s.onMessage(isBinary ? "" : data.toString()));
      ws.on("ping", () => s.onPing());
      ws.on("pong", (data) => s.onPong(data.toString()));
      ws.on("close", () => s.onClose());
      ws.on("error", () => s.onClose());
      port.flush();
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = http.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const host = opts.host ?? "127.0.0.1";
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  return {
    wsUrl: `ws://${hostInUrl}:${port}`,
    httpUrl: `http://${hostInUrl}:${port}`,
    port,
    core,
    async close() {
      for (const t of held) clearTimeout(t);
      core.closeAll();
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A ws socket as a SessionPort; frames sent before the handshake completes wait in `early`. */
class WsPort implements SessionPort {
  private ws?: WebSocket;
  private early: string[] = [];
  private dead = false;
  private closing?: { code: number; reason: string };

  bind(ws: WebSocket): void {
    this.ws = ws;
  }

  flush(): void {
    const ws = this.ws!;
    if (this.dead) { ws.terminate(); return; }
    for (const m of this.early) ws.send(m);
    this.early = [];
    if (this.closing) ws.close(this.closing.code, this.closing.reason);
  }

  send(text: string): void {
    if (this.ws) {
      if (this.ws.readyState === 1) this.ws.send(text);
    } else this.early.push(text);
  }

  bufferedAmount(): number {
    return this.ws ? this.ws.bufferedAmount : 0;
  }

  onDrain(cb: () => void): void {
    const sock = (this.ws as unknown as { _socket?: Duplex })?._socket;
    if (!sock || sock.destroyed) return;
    sock.once("drain", cb);
  }

  ping(payload: string): void {
    if (this.ws?.readyState === 1) this.ws.ping(payload);
  }

  close(code: number, reason: string): void {
    if (this.ws) this.ws.close(code, reason);
    else this.closing = { code, reason }; // closed before the handshake completed: close properly right after it
  }

  terminate(): void {
    if (this.ws) this.ws.terminate();
    else this.dead = true;
  }
}
