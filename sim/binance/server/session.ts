import { Rng } from "../../../engine/kernel/rng.ts";
import { frameLatency, hasLatency, NO_FAULTS, ToxicStream, type FeedFaultPlan, type FrameAction } from "../toxics.ts";
import { END_OF_TAPE, type Exchange, type SymbolBook } from "./exchange.ts";

/**
 * One client connection to the stream endpoint, as Binance runs it (spot market streams):
 * SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY with ids and
 * Binance's error replies, a ping every pingIntervalMs whose pong must echo the payload
 * within pongTimeoutMs, at most maxIncomingPerSec incoming messages (text, ping and pong
 * frames all count; over it: close 1008 "Too many requests"), at most maxStreams streams, a
 * bounded lifetime, and a slow consumer is cut off rather than buffered without bound.
 * The connection follows the exchange's market (exchange.ts): it joins where the market is and
 * sends what the market publishes, from its own position. Paced, trades of all the
 * connection's streams leave in publish-time order; at max pace the streams take turns in
 * batches and a reader that is slower than the market lags (its position waits for the socket
 * to drain) without slowing the market. With end of tape "close", the connection is closed with
 * 1000 "end of tape" once every trade of its streams has been sent. With the latency toxic every outgoing text frame (trades,
 * malformed frames, replies) waits in a delay line: frame k leaves at
 * max(due[k-1], decided[k] + meanMs + jitter), jitter drawn per tape position from the
 * stream's seeded Rng, so frames keep the order the toxics decided (only `reorder` reorders);
 * a disconnect or restart decided after a frame happens after it is delivered. Pings are not
 * delayed. Transport-free: the ws server and the WebSocket interceptor each supply a SessionPort.
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
  /** The latency toxic's draws for this stream (one per tape position). */
  readonly latRng: Rng;
  /** Frames decided before a stall, sent when it ends, with their latency draw. */
  backlog: FrameAction[];
  backlogLat: number;
  flushed: boolean;
}

/** A frame in the latency toxic's delay line, or the connection fault that follows it. */
type Delayed = { due: number; text: string; fault?: undefined } | { due: number; text?: undefined; fault: Extract<FrameAction, { kind: "disconnect" | "server-restart" }> };

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
  /** Trade and malformed frames sent (or put in the delay line). */
  sentFrames = 0;
  // the latency toxic's delay line: a FIFO with non-decreasing due times
  private readonly latency: boolean;
  private readonly replyRng: Rng;
  private line: Delayed[] = [];
  private lineHead = 0;
  private lineBytes = 0;
  private lastDue = -Infinity;
  private lineTimer?: NodeJS.Timeout;
  /** Max pace: the delay line holds more than highWaterBytes; the pump waits for it. */
  private waitingLine = false;
  /** A disconnect or restart waits in the delay line: decide nothing more. */
  private ending = false;
  /** The market advanced: send what it published (synchronously, so every subscriber gets it in the same turn). */
  private readonly onMarket = (): void => this.pump();

  constructor(private readonly ex: Exchange, private readonly port: SessionPort, combined: boolean, initial: readonly string[], private readonly limits: SessionLimits, private readonly clock: () => number, private readonly hooks: SessionHooks, private readonly seed: string, plan: FeedFaultPlan = NO_FAULTS) {
    this.combined = combined;
    this.plan = plan;
    this.latency = hasLatency(plan);
    this.replyRng = new Rng(`${seed}/replies/latency`);
    for (const s of initial) this.add(s);
    const l = limits;
    if (port.ping) {
      this.timers.push(setInterval(() => this.sendPing(), l.pingIntervalMs)); // real-time: Binance's server ping cadence
      this.timers.push(setInterval(() => this.checkPong(), Math.max(5, Math.min(l.pingIntervalMs, l.pongTimeoutMs) / 4))); // real-time: pong deadline check
    }
    this.timers.push(setTimeout(() => this.close(1001, "Connection lifetime exceeded"), l.lifetimeMs)); // real-time: 24 h connection lifetime
    ex.listeners.add(this.onMarket);
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
    // A pong that echoes an outstanding ping answers it and the ones before it; a pong with another
    // payload is unsolicited: allowed, but it does not count. An empty pong answers them all: the
    // official connectors answer every ping with `ws.pong()` (no payload), and the market-stream
    // endpoint accepts that (binance/binance-connector-js#559: only the WS API checks the payload).
    if (payload === "") return void this.pings.clear();
    const sent = this.pings.get(payload);
    if (sent === undefined) return;
    for (const [p, t] of this.pings) if (t <= sent) this.pings.delete(p);
  }

  /** The transport closed (either side). */
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.ex.listeners.delete(this.onMarket);
    for (const t of this.timers) clearTimeout(t);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.lineTimer) clearTimeout(this.lineTimer);
    this.line = [];
    this.lineHead = this.lineBytes = 0;
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
    const text = JSON.stringify(error ? { error, id } : { result, id });
    if (this.latency) this.delay(text, this.clock(), frameLatency(this.plan, this.replyRng));
    else this.port.send(text);
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
    // Binance sends a new subscriber what happens from now on; what happened before is on REST.
    // One `now` for both: the subscription that starts the market gets it from its first trade.
    const now = this.clock();
    if (book) this.ex.start(now);
    const cursor = book ? this.ex.joinAt(book, now) : 0;
    const tag = `${this.seed}/stream${++this.streamNo}/${name}`;
    this.streams.set(name, { name, book, prefix: `{"stream":"${name}","data":`, cursor, toxic: new ToxicStream(this.plan, new Rng(tag)), latRng: new Rng(`${tag}/latency`), backlog: [], backlogLat: 0, flushed: false });
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
    this.pumpTimer = setTimeout(() => { // real-time: a stall ends on the wall clock
      this.pumpTimer = undefined;
      this.pump();
    }, Math.min(ms, 1_000));
  }

  /** Sends what is due, in batches; stops at a stall, a connection fault or the high-water mark. */
  private pump(): void {
    if (this.closed || this.waitingDrain || this.waitingLine || this.ending) return;
    const now = this.clock();
    if (now < this.stalledUntil) return this.schedulePump(this.stalledUntil - now);
    if (this.ex.pace === "max") this.pumpMax(now);
    else this.pumpPaced(now);
  }

  /** Max pace: round-robin over streams, BATCH positions each up to what the market published, waiting whenever the client's buffer is full. */
  private pumpMax(now: number): void {
    let more = false;
    for (const st of this.streams.values()) {
      if (!st.book) continue;
      const b = st.book;
      const lim = this.ex.published(b);
      for (let k = 0; k < BATCH && (st.backlog.length > 0 || st.cursor < lim); k++) if (!this.step(st, b, now)) return;
      this.flushEnd(st, b, now);
      if (st.cursor < lim) more = true;
      if (this.blocked()) return;
    }
    if (more) this.schedulePump(0);
    else this.checkEnd();
  }

  /**
   * Paced: what is published by `now`, merged over streams in publish-time order (ties in
   * subscription order), so a client that falls behind still gets the trades as recorded.
   */
  private pumpPaced(now: number): void {
    const active: StreamState[] = [];
    const lims: number[] = [];
    for (const st of this.streams.values()) if (st.book) { active.push(st); lims.push(this.ex.published(st.book, now)); }
    let more = false;
    for (let k = 0; ; k++) {
      let best = -1;
      let bestAt = Infinity;
      for (let i = 0; i < active.length; i++) {
        const st = active[i];
        // A stall's leftovers were due before it began: they go first.
        if (st.backlog.length > 0) { best = i; break; }
        if (st.cursor < lims[i]) {
          const at = this.ex.offsetOf(st.book!, st.cursor);
          if (at < bestAt) { bestAt = at; best = i; }
        }
      }
      if (best < 0) break;
      if (k >= BATCH) { more = true; break; }
      const st = active[best];
      if (!this.step(st, st.book!, now)) return;
      this.flushEnd(st, st.book!, now);
    }
    if (this.port.bufferedAmount() > this.limits.slowClientBytes) return this.terminate();
    if (more) return this.schedulePump(0);
    // The market calls back when it publishes the next trade.
    this.checkEnd();
  }

  /**
   * End of tape "close": once the market has published everything and this connection has sent
   * (and delivered through the delay line) every trade of its streams, close it with 1000.
   */
  private checkEnd(): void {
    if (this.closed || this.ending || this.ex.endOfTape !== "close" || !this.ex.ended) return;
    let any = false;
    for (const st of this.streams.values()) {
      if (!st.book) continue;
      any = true;
      if (st.cursor < st.book.n || st.backlog.length > 0) return;
      if (!st.flushed) this.flushEnd(st, st.book, this.clock());
    }
    if (!any || this.lineHead < this.line.length) return;
    this.close(END_OF_TAPE.code, END_OF_TAPE.reason);
  }

  /**
   * One step of `st`: the frames left over from a stall, or the frames the toxics decide for
   * the next tape position. False when the pump must stop (a stall began, the connection ended).
   */
  private step(st: StreamState, b: SymbolBook, now: number): boolean {
    let actions: FrameAction[];
    let lat = 0;
    if (st.backlog.length > 0) {
      actions = st.backlog;
      st.backlog = [];
      lat = st.backlogLat;
    } else {
      // The cursor moves when the trade's frames are decided; a stall keeps the rest in the backlog.
      actions = st.toxic.next(st.cursor);
      if (this.latency) lat = frameLatency(this.plan, st.latRng);
      this.advance(st);
    }
    for (let j = 0; j < actions.length; j++) {
      const a = actions[j];
      if (a.kind === "trade") this.emit(this.combined ? st.prefix + this.ex.payload(b, a.index) + "}" : this.ex.payload(b, a.index), now, lat);
      else if (a.kind === "malformed") this.emit(a.text, now, lat);
      else if (a.kind === "stall") {
        this.stalledUntil = now + a.ms;
        st.backlog = actions.slice(j + 1);
        st.backlogLat = lat;
        this.schedulePump(a.ms);
        return false;
      } else {
        if (this.latency) {
          // After the frames before it have been delivered.
          this.ending = true;
          this.enqueue({ due: Math.max(this.lastDue, now + lat), fault: a });
        } else this.fault(a);
        return false;
      }
    }
    return true;
  }

  /** At the tape's end, releases the frames the reorder toxic still holds. */
  private flushEnd(st: StreamState, b: SymbolBook, now: number): void {
    if (st.flushed || this.ex.endOfTape === "loop" || st.cursor < b.n || st.backlog.length > 0) return;
    st.flushed = true;
    const held = st.toxic.flush();
    if (held.length === 0) return;
    const lat = this.latency ? frameLatency(this.plan, st.latRng) : 0;
    for (const a of held) if (a.kind === "trade") this.emit(this.combined ? st.prefix + this.ex.payload(b, a.index) + "}" : this.ex.payload(b, a.index), now, lat);
  }

  private emit(text: string, now: number, lat: number): void {
    this.sentFrames++;
    if (this.latency) this.delay(text, now, lat);
    else this.port.send(text);
  }

  private fault(a: Extract<FrameAction, { kind: "disconnect" | "server-restart" }>): void {
    if (a.kind === "disconnect") this.terminate();
    else this.hooks.restart(a.downMs);
  }

  /** Max pace: true (and a wake-up arranged) when the client's buffer or the delay line is over the high-water mark. */
  private blocked(): boolean {
    const port = this.port;
    if (port.onDrain && port.bufferedAmount() > this.limits.highWaterBytes) {
      this.waitingDrain = true;
      port.onDrain(() => {
        this.waitingDrain = false;
        this.pump();
      });
      return true;
    }
    if (this.lineBytes > this.limits.highWaterBytes) {
      this.waitingLine = true; // release() resumes the pump once the line has drained to half
      return true;
    }
    return false;
  }

  // ---- the latency toxic's delay line ----

  /** Frame `text`, decided at `now`, leaves `lat` ms later, and never before the frame ahead of it. */
  private delay(text: string, now: number, lat: number): void {
    if (this.closed) return;
    const due = Math.max(this.lastDue, now + lat);
    if (this.lineHead === this.line.length && due <= this.clock()) {
      this.lastDue = due;
      this.port.send(text);
      return;
    }
    this.lineBytes += text.length;
    this.enqueue({ due, text });
  }

  private enqueue(d: Delayed): void {
    this.lastDue = d.due;
    this.line.push(d);
    if (!this.lineTimer) this.armLine(d.due - this.clock());
  }

  private armLine(ms: number): void {
    this.lineTimer = setTimeout(() => this.release(), Math.max(0, ms)); // real-time: the latency toxic delays frames on the wall clock
  }

  /** Sends every frame that is due, in line order, and arms the timer for the next. */
  private release(): void {
    this.lineTimer = undefined;
    if (this.closed) return;
    const now = this.clock();
    const q = this.line;
    while (this.lineHead < q.length && q[this.lineHead].due <= now) {
      const d = q[this.lineHead++];
      if (d.fault) {
        this.line = [];
        this.lineHead = this.lineBytes = 0;
        return this.fault(d.fault);
      }
      this.lineBytes -= d.text.length;
      this.port.send(d.text);
    }
    if (this.lineHead === q.length) {
      q.length = 0;
      this.lineHead = 0;
    } else {
      if (this.lineHead >= 1024 && this.lineHead * 2 >= q.length) {
        q.splice(0, this.lineHead);
        this.lineHead = 0;
      }
      this.armLine(q[this.lineHead].due - now);
    }
    if (this.waitingLine && this.lineBytes <= this.limits.highWaterBytes / 2) {
      this.waitingLine = false;
      this.schedulePump(0);
    }
    this.checkEnd();
  }

  private advance(st: StreamState): void {
    st.cursor++;
  }
}

function idOrNull(id: unknown): number | null {
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : null;
}
