import { Rng } from "../../../engine/kernel/rng.ts";
import { NO_FAULTS, ToxicStream, type FeedFaultPlan, type FrameAction } from "../toxics.ts";
import type { Exchange, SymbolBook } from "./exchange.ts";

/**
 * One client connection to the stream endpoint, as Binance runs it (spot market streams):
 * SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY with ids and
 * Binance's error replies, a ping every pingIntervalMs whose pong must echo the payload
 * within pongTimeoutMs, at most maxIncomingPerSec incoming messages (text, ping and pong
 * frames all count; over it: close 1008 "Too many requests"), at most maxStreams streams, a
 * bounded lifetime, and a slow consumer is cut off rather than buffered without bound.
 * Transport-free: the ws server and the WebSocket interceptor each supply a SessionPort.
 */
export interface SessionPort {
  send(text: string): void;
  /** Bytes queued and not yet written to the network. */
  bufferedAmount(): number;
  /** Calls back once the outgoing buffer has drained (real sockets only). */
  onDrain?(cb: () => void): void;
  ping?(payload: string): void;
  close(code: number, reason: string): void;
  /** Drops the connection without a close frame (the client sees 1006). */
  terminate(): void;
}

export interface SessionLimits {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  lifetimeMs: number;
  maxIncomingPerSec: number;
  maxStreams: number;
  /** Largest incoming message, bytes. */
  maxPayload: number;
  /** Paced mode: more than this many bytes queued for a client disconnects it. */
  slowClientBytes: number;
  /** Max pace: stop writing above this many queued bytes until the socket drains. */
  highWaterBytes: number;
}

/** Binance's documented values (spot streams, 2025). */
export const BINANCE_LIMITS: SessionLimits = {
  pingIntervalMs: 20_000,
  pongTimeoutMs: 60_000,
  lifetimeMs: 24 * 3600_000,
  maxIncomingPerSec: 5,
  maxStreams: 1024,
  maxPayload: 64 * 1024,
  slowClientBytes: 16 * 1024 * 1024,
  highWaterBytes: 512 * 1024,
};

export interface SessionHooks {
  /** The server-restart toxic fired. */
  restart(downMs: number): void;
  closed(s: Session): void;
}

interface StreamState {
  readonly name: string;
  readonly book?: SymbolBook;
  readonly prefix: string;
  cursor: number;
  readonly toxic: ToxicStream;
  backlog: FrameAction[];
  flushed: boolean;
}

const STREAM_RE = /^[a-z0-9]+@[a-zA-Z0-9_@.]+$/;
const BATCH = 4096;

export class Session {
  private readonly streams = new Map<string, StreamState>();
  private combined: boolean;
  private closed = false;
  private readonly incoming: number[] = [];
  private readonly pings = new Map<string, number>();
  private pingSeq = 0;
  private stalledUntil = -Infinity;
  private timers: NodeJS.Timeout[] = [];
  private pumpTimer?: NodeJS.Timeout;
  private waitingDrain = false;
  private pumpQueued = false;
  private readonly plan: FeedFaultPlan;
  private streamNo = 0;
  sentFrames = 0;

  constructor(private readonly ex: Exchange, private readonly port: SessionPort, combined: boolean, initial: readonly string[], private readonly limits: SessionLimits, private readonly clock: () => number, private readonly hooks: SessionHooks, private readonly seed: string, plan: FeedFaultPlan = NO_FAULTS) {
    this.combined = combined;
    this.plan = plan;
    for (const s of initial) this.add(s);
    const l = limits;
    if (port.ping) {
      this.timers.push(setInterval(() => this.sendPing(), l.pingIntervalMs)); // real-time: Binance's server ping cadence
      this.timers.push(setInterval(() => this.checkPong(), Math.max(5, Math.min(l.pingIntervalMs, l.pongTimeoutMs) / 4))); // real-time: pong deadline check
    }
    this.timers.push(setTimeout(() => this.close(1001, "Connection lifetime exceeded"), l.lifetimeMs)); // real-time: 24 h connection lifetime
    this.schedulePump(0);
  }

  /** Stream names, in subscription order. */
  subscriptions(): string[] {
    return [...this.streams.keys()];
  }

  // ---- incoming ----

  onMessage(text: string): void {
    if (this.closed || !this.countIncoming()) return;
    if (text.length > this.limits.maxPayload) return this.close(1009, "Max payload size exceeded");
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.reply(null, undefined, { code: 3, msg: `Invalid JSON: expected value at line 1 column 1` });
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return this.reply(null, undefined, { code: 3, msg: "Invalid JSON: expected a JSON object at line 1 column 1" });
    const m = msg as Record<string, unknown>;
    for (const k of Object.keys(m)) if (k !== "method" && k !== "params" && k !== "id") return this.reply(idOrNull(m.id), undefined, { code: 2, msg: `Invalid request: unknown field \`${k}\`, expected one of \`method\`, \`params\`, \`id\`` });
    const id = m.id;
    if (!(id === undefined || id === null || (typeof id === "number" && Number.isSafeInteger(id) && id >= 0))) return this.reply(null, undefined, { code: 2, msg: "Invalid request: request ID must be an unsigned integer" });
    const rid = (id ?? null) as number | null;
    if (m.method === undefined) return this.reply(rid, undefined, { code: 2, msg: "Invalid request: missing field `method` at line 1 column 1" });
    if (typeof m.method !== "string") return this.reply(rid, undefined, { code: 2, msg: "Invalid request: method must be a string" });
    const params = m.params;
    switch (m.method) {
      case "SUBSCRIBE":
      case "UNSUBSCRIBE": {
        if (!Array.isArray(params) || params.some((p) => typeof p !== "string")) return this.reply(rid, undefined, { code: 2, msg: "Invalid request: params must be an array of stream names (strings)" });
        const names = params as string[];
        const bad = names.find((n) => !STREAM_RE.test(n));
        if (bad !== undefined) return this.reply(rid, undefined, { code: 2, msg: `Invalid request: invalid stream name ${JSON.stringify(bad)}; stream names are lower case, e.g. btcusdt@trade` });
        if (m.method === "SUBSCRIBE") {
          const fresh = new Set(names.filter((n) => !this.streams.has(n)));
          if (this.streams.size + fresh.size > this.limits.maxStreams) return this.reply(rid, undefined, { code: 2, msg: `Invalid request: too many streams; a connection may listen to at most ${this.limits.maxStreams}` });
          for (const n of fresh) this.add(n);
          this.schedulePump(0);
        } else for (const n of names) this.streams.delete(n);
        return this.reply(rid, null);
      }
      case "LIST_SUBSCRIPTIONS":
        if (params !== undefined && !(Array.isArray(params) && params.length === 0)) return this.reply(rid, undefined, { code: 2, msg: "Invalid request: too many parameters" });
        return this.reply(rid, this.subscriptions());
      case "SET_PROPERTY": {
        if (!Array.isArray(params) || params.length !== 2) return this.reply(rid, undefined, { code: 2, msg: "Invalid request: SET_PROPERTY takes [name, value]" });
        if (typeof params[0] !== "string") return this.reply(rid, undefined, { code: 2, msg: "Invalid request: property name must be a string" });
        if (params[0] !== "combined") return this.reply(rid, undefined, { code: 0, msg: "Unknown property" });
        if (typeof params[1] !== "boolean") return this.reply(rid, undefined, { code: 1, msg: "Invalid value type: expected Boolean" });
        this.combined = params[1];
        return this.reply(rid, null);
      }
      case "GET_PROPERTY":
        if (!Array.isArray(params) || params.length !== 1) return this.reply(rid, undefined, { code: 2, msg: "Invalid request: GET_PROPERTY takes [name]" });
        if (typeof params[0] !== "string") return this.reply(rid, undefined, { code: 2, msg: "Invalid request: property name must be a string" });
        if (params[0] !== "combined") return this.reply(rid, undefined, { code: 0, msg: "Unknown property" });
        return this.reply(rid, this.combined);
      default:
        return this.reply(rid, undefined, { code: 2, msg: `Invalid request: unknown variant \`${m.method}\`, expected one of \`SUBSCRIBE\`, \`UNSUBSCRIBE\`, \`LIST_SUBSCRIPTIONS\`, \`SET_PROPERTY\`, \`GET_PROPERTY\`` });
    }
  }

  onPing(): void {
    this.countIncoming();
  }

  onPong(payload: string): void {
    if (!this.countIncoming()) return;
    // Only a pong that echoes an outstanding ping answers it; unsolicited pongs are allowed but do not count.
    const sent = this.pings.get(payload);
    if (sent === undefined) return;
    for (const [p, t] of this.pings) if (t <= sent) this.pings.delete(p);
  }

  /** The transport closed (either side). */
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.hooks.closed(this);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.port.close(code, reason);
    this.onClose();
  }

  terminate(): void {
    if (this.closed) return;
    this.port.terminate();
    this.onClose();
  }

  // ---- outgoing ----

  private reply(id: number | null, result: unknown, error?: { code: number; msg: string }): void {
    this.port.send(JSON.stringify(error ? { error, id } : { result, id }));
  }

  private countIncoming(): boolean {
    const now = this.clock();
    const q = this.incoming;
    q.push(now);
    while (q.length && q[0] <= now - 1000) q.shift();
    if (q.length > this.limits.maxIncomingPerSec) {
      this.close(1008, "Too many requests");
      return false;
    }
    return true;
  }

  private sendPing(): void {
    if (this.closed || this.clock() < this.stalledUntil) return;
    const p = String(++this.pingSeq);
    this.pings.set(p, this.clock());
    this.port.ping!(p);
  }

  private checkPong(): void {
    const now = this.clock();
    for (const t of this.pings.values()) {
      if (now - t > this.limits.pongTimeoutMs) return this.close(1008, "Pong timeout");
      break; // insertion order: the first is the oldest
    }
  }

  private add(name: string): void {
    const sym = name.endsWith("@trade") ? name.slice(0, -6) : undefined;
    const book = sym !== undefined ? this.ex.book(sym) : undefined;
    if (book) this.ex.start();
    const cursor = book ? (this.ex.pace === "max" ? book.cursor : this.ex.published(book)) : 0;
    const rng = new Rng(`${this.seed}/stream${++this.streamNo}/${name}`);
    this.streams.set(name, { name, book, prefix: `{"stream":"${name}","data":`, cursor, toxic: new ToxicStream(this.plan, rng), backlog: [], flushed: false });
  }

  private schedulePump(ms: number): void {
    if (this.closed) return;
    if (ms <= 0) {
      if (this.pumpQueued) return;
      this.pumpQueued = true;
      setImmediate(() => { // real-time: yield to the event loop between batches
        this.pumpQueued = false;
        this.pump();
      });
      return;
    }
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = setTimeout(() => { // real-time: paced replay waits for the next trade's publish time
      this.pumpTimer = undefined;
      this.pump();
    }, Math.min(ms, 1_000));
  }

  /** Sends what is due, in batches, round-robin over streams; stops at the high-water mark. */
  private pump(): void {
    if (this.closed || this.waitingDrain) return;
    const now = this.clock();
    if (now < this.stalledUntil) return this.schedulePump(this.stalledUntil - now);
    const port = this.port;
    const paced = this.ex.pace !== "max";
    let sent = 0;
    let more = false;
    for (const st of this.streams.values()) {
      if (!st.book) continue;
      const b = st.book;
      const lim = this.ex.sendable(b);
      let k = 0;
      while (k < BATCH && (st.backlog.length > 0 || st.cursor < lim)) {
        // The cursor moves when the trade's frames are decided; a stall keeps the rest in the backlog.
        let actions: FrameAction[];
        if (st.backlog.length > 0) actions = st.backlog.splice(0);
        else {
          actions = st.toxic.next(st.cursor);
          this.advance(st, b);
        }
        for (let j = 0; j < actions.length; j++) {
          const a = actions[j];
          if (a.kind === "trade") {
            port.send(this.combined ? st.prefix + this.ex.payload(b, a.index) + "}" : this.ex.payload(b, a.index));
            k++;
          } else if (a.kind === "malformed") {
            port.send(a.text);
            k++;
          } else if (a.kind === "disconnect") {
            this.terminate();
            return;
          } else if (a.kind === "server-restart") {
            this.hooks.restart(a.downMs);
            return;
          } else {
            this.stalledUntil = now + a.ms;
            st.backlog = actions.slice(j + 1);
            this.sentFrames += sent + k;
            return this.schedulePump(a.ms);
          }
        }
      }
      if (st.cursor >= b.trades.length && !st.flushed) {
        st.flushed = true;
        for (const a of st.toxic.flush()) if (a.kind === "trade") { port.send(this.combined ? st.prefix + this.ex.payload(b, a.index) + "}" : this.ex.payload(b, a.index)); k++; }
      }
      sent += k;
      if (st.cursor < lim) more = true;
      const buffered = port.bufferedAmount();
      if (paced && buffered > this.limits.slowClientBytes) {
        this.terminate();
        return;
      }
      if (!paced && buffered > this.limits.highWaterBytes && port.onDrain) {
        this.sentFrames += sent;
        this.waitingDrain = true;
        port.onDrain(() => {
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
    }
    this.sentFrames += sent;
    if (more) return this.schedulePump(0);
    if (paced) {
      let next = Infinity;
      for (const st of this.streams.values()) if (st.book && st.cursor < st.book.trades.length) next = Math.min(next, this.ex.publishAt(st.book, st.cursor));
      if (next < Infinity) this.schedulePump(Math.max(1, next - this.clock()));
    }
  }

  private advance(st: StreamState, b: SymbolBook): void {
    if (st.cursor < b.trades.length) {
      this.ex.sent(b, st.cursor);
      st.cursor++;
    }
  }
}

function idOrNull(id: unknown): number | null {
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : null;
}
