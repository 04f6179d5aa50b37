import WsWebSocket from "ws";
import type { Kernel } from "../../../kernel/kernel.ts";
import { Rng } from "../../../kernel/rng.ts";
import { decodeMessage, tradeFromRest } from "../codec.ts";
import { FEED_ENDED, type TradeFeed, type TradeSubscription } from "../feed.ts";
import { SymbolClient, type ClientAction, type RestOutcome, type SymbolClientStats, type SymbolClientTiming } from "../symbol-client.ts";
import type { Trade } from "../trade.ts";

/**
 * The real-network feed: one WebSocket per symbol (`<wsBase>/ws/<symbol>@trade`) and REST
 * backfill (`<restBase>/api/v3/historicalTrades`), driven by SymbolClient. Written against the
 * WHATWG WebSocket API (globalThis.WebSocket, else ws's class), so the same code talks to
 * `flinch serve`, to Binance, and to the production URLs served in-process by the interceptor.
 */
export interface StreamFeedOptions {
  symbols: readonly string[];
  /** Default wss://stream.binance.com:9443 */
  wsBase?: string;
  /** Default https://api.binance.com */
  restBase?: string;
  /** A bounded replay: per symbol (upper case), the first and last trade id. Without it the feed is live and never ends. */
  range?: Readonly<Record<string, { firstId: number; lastId: number }>>;
  timing?: Partial<SymbolClientTiming>;
  restTimeoutMs?: number;
  /** Seed of the reconnect jitter; default: the kernel's RNG. */
  seed?: string;
  WebSocket?: new (url: string) => WebSocketLike;
  fetch?: typeof fetch;
  clock?: () => number;
}

/** The part of the WHATWG WebSocket API this feed uses. */
export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export class BinanceStreamFeed implements TradeFeed {
  readonly bounded: boolean;
  private readonly n = new Map<string, number>();
  readonly stats: SymbolClientStats = { duplicates: 0, malformed: 0, connects: 0, disconnects: 0, stalls: 0, restCalls: 0, restRetryAfter: 0, restErrors: 0, backfilled: 0 };

  constructor(readonly options: StreamFeedOptions) {
    this.bounded = options.range !== undefined;
  }

  symbols(): readonly string[] {
    return this.options.symbols.map((s) => s.toUpperCase());
  }

  subscribe(symbol: string, kernel: Kernel, afterId?: number, onData?: () => void): TradeSubscription {
    const k = (this.n.get(symbol) ?? 0) + 1;
    this.n.set(symbol, k);
    const rng = this.options.seed !== undefined ? new Rng(`${this.options.seed}/${symbol}/${k}`) : kernel.rng.fork(`binance-stream/${symbol}/${k}`);
    return new StreamSubscription(symbol.toUpperCase(), this.options, rng, afterId, onData ?? (() => {}), this.stats);
  }
}

const defaultClock = () => Date.now(); // real-time: the network transport runs on the wall clock

function webSocketClass(o: StreamFeedOptions): new (url: string) => WebSocketLike {
  const g = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  return o.WebSocket ?? g ?? (WsWebSocket as unknown as new (url: string) => WebSocketLike);
}

class StreamSubscription implements TradeSubscription {
  private readonly client: SymbolClient;
  private ws?: WebSocketLike;
  private timer?: ReturnType<typeof setTimeout>;
  private timerAt = Infinity;
  private closed = false;
  private readonly clock: () => number;
  private readonly wsUrl: string;
  private readonly restUrl: string;

  constructor(readonly symbol: string, private readonly o: StreamFeedOptions, rng: Rng, afterId: number | undefined, private readonly onData: () => void, private readonly totals: SymbolClientStats) {
    this.clock = o.clock ?? defaultClock;
    const range = o.range?.[symbol];
    this.client = new SymbolClient(symbol, this.clock(), afterId ?? (range ? range.firstId - 1 : undefined), range?.lastId, rng, o.timing);
    this.wsUrl = `${(o.wsBase ?? "wss://stream.binance.com:9443").replace(/\/$/, "")}/ws/${symbol.toLowerCase()}@trade`;
    this.restUrl = `${(o.restBase ?? "https://api.binance.com").replace(/\/$/, "")}/api/v3/historicalTrades`;
    this.drive();
  }

  poll(_now: number, max: number, out: Trade[]): number {
    if (this.closed) return FEED_ENDED;
    this.drive();
    this.client.take(max, out);
    if (this.client.readyCount() > 0) return _now;
    if (this.client.ended()) {
      this.drive();
      return FEED_ENDED;
    }
    return Infinity; // data or a timer will call onData
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close();
    const s = this.client.stats, t = this.totals;
    for (const k of Object.keys(s) as (keyof SymbolClientStats)[]) t[k] += s[k];
  }

  /** Performs what the client wants now and arms one timer for its next wake-up. */
  private drive(): void {
    if (this.closed) return;
    const now = this.clock();
    for (const a of this.client.step(now)) this.perform(a);
    const at = this.client.wakeAt();
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at < Infinity) {
      this.timer = setTimeout(() => { // real-time: reconnect backoff, stall detection, REST retry
        this.timer = undefined;
        this.timerAt = Infinity;
        this.drive();
        this.onData();
      }, Math.max(0, Math.min(at - this.clock(), 2_147_000_000))); // real-time: delay until the client's next deadline
    }
  }

  private perform(a: ClientAction): void {
    if (a.kind === "connect") this.connect();
    else if (a.kind === "close") {
      const ws = this.ws;
      this.ws = undefined;
      ws?.close();
    } else void this.fetchPage(a.fromId, a.limit);
  }

  private connect(): void {
    const WS = webSocketClass(this.o);
    let ws: WebSocketLike;
    try {
      ws = new WS(this.wsUrl);
    } catch {
      this.client.onClose(this.clock());
      return;
    }
    this.ws = ws;
    const client = this.client;
    const symbol = this.symbol;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      client.onOpen(this.clock());
      this.drive();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      const now = this.clock();
      try {
        const d = decodeMessage(JSON.parse(typeof ev.data === "string" ? ev.data : String(ev.data)));
        if (d.kind === "trade" && d.trade.symbol === symbol) client.onLive(now, d.trade);
        else client.onOtherFrame(now);
      } catch {
        client.onMalformed(now);
      }
      this.onData();
    };
    const lost = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      client.onClose(this.clock());
      this.drive();
      this.onData();
    };
    ws.onclose = lost;
    ws.onerror = lost;
  }

  private async fetchPage(fromId: number, limit: number): Promise<void> {
    const f = this.o.fetch ?? fetch;
    const ctl = new AbortController();
    const timeout = setTimeout(() => ctl.abort(), this.o.restTimeoutMs ?? 10_000); // real-time: REST request timeout
    let outcome: RestOutcome;
    try {
      const r = await f(`${this.restUrl}?symbol=${this.symbol}&fromId=${fromId}&limit=${limit}`, { signal: ctl.signal });
      if (r.status === 200) {
        const body = (await r.json()) as unknown[];
        outcome = { kind: "ok", trades: body.map((o) => tradeFromRest(this.symbol, o)) };
      } else if (r.status === 429 || r.status === 418) {
        const s = Number(r.headers.get("retry-after"));
        await r.arrayBuffer().catch(() => undefined);
        outcome = { kind: "retry-after", ms: Number.isFinite(s) && s >= 0 ? s * 1000 : 1000 };
      } else {
        await r.arrayBuffer().catch(() => undefined);
        outcome = { kind: "error", what: `HTTP ${r.status}` };
      }
    } catch (e) {
      outcome = { kind: "error", what: (e as Error).name === "AbortError" ? "timeout" : String((e as Error).message) };
    } finally {
      clearTimeout(timeout);
    }
    if (this.closed) return;
    this.client.onRest(this.clock(), outcome, limit);
    this.drive();
    this.onData();
  }
}
