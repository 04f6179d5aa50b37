import type { Tape } from "../tape.ts";
import { NO_FAULTS, type FeedFaultPlan } from "../toxics.ts";
import { Exchange, type EndOfTape, type Pace } from "./exchange.ts";
import { RestApi } from "./rest.ts";
import { BINANCE_LIMITS, Session, type SessionLimits, type SessionPort } from "./session.ts";

/** Limits of the stream endpoint as a whole (per client IP), beside the per-connection ones. */
export interface ExchangeLimits extends SessionLimits {
  /** Connection attempts per IP within connectAttemptWindowMs (Binance: 300 per 5 minutes). */
  maxConnectAttempts: number;
  connectAttemptWindowMs: number;
}

/** Binance's documented values (spot streams, 2025). */
export const BINANCE_EXCHANGE_LIMITS: ExchangeLimits = {
  ...BINANCE_LIMITS,
  maxConnectAttempts: 300,
  connectAttemptWindowMs: 5 * 60_000,
};

/**
 * The exchange with its REST API and stream sessions, independent of any transport: the ws
 * server (server.ts) and the interceptor (../intercept.ts) both put their sockets on it.
 */
export interface ExchangeOptions {
  tape: Tape;
  /** "max" (the market advances a batch of trades per event-loop turn, the default) or { speed: 1 } for the recorded pace, N for N× faster. */
  pace?: Pace;
  /**
   * What happens when the tape has been played: "stay" (the default: streams go quiet and
   * connections stay open, for embedders that keep talking to a connection), "close" (each
   * stream connection is closed with 1000 "end of tape" once it has been sent everything;
   * `flinch serve`'s default) or "loop" (the tape plays again, ids and times continuing).
   */
  endOfTape?: EndOfTape;
  plan?: FeedFaultPlan;
  seed?: string;
  limits?: Partial<ExchangeLimits>;
  /** REST request weight per IP per minute (Binance: 6000). */
  weightLimit?: number;
  banMs?: number;
}

export type OpenResult = { ok: true; session: Session } | { ok: false; status: number; reason: string; retryAfterMs?: number };

export class ExchangeCore {
  readonly exchange: Exchange;
  readonly rest: RestApi;
  readonly limits: ExchangeLimits;
  readonly sessions = new Set<Session>();
  private downUntil = -Infinity;
  private n = 0;
  /** Per IP: clock times of the connection attempts still inside the window, oldest first. */
  private readonly attempts = new Map<string, number[]>();
  /** Counts for tests and the serve command. */
  readonly counts = { connections: 0, refused: 0, restarts: 0, rateLimited: 0 };

  constructor(private readonly opts: ExchangeOptions, readonly clock: () => number) {
    this.exchange = new Exchange(opts.tape, opts.pace ?? "max", clock, opts.endOfTape ?? "stay");
    this.rest = new RestApi(this.exchange, clock, { weightLimit: opts.weightLimit, banMs: opts.banMs, plan: opts.plan, seed: opts.seed });
    this.limits = { ...BINANCE_EXCHANGE_LIMITS, ...opts.limits };
  }

  /**
   * Parses a stream URL path (`/ws/a@trade[/b@trade]`, `/stream?streams=a/b`) and opens a session on `port`.
   * `ip` is the client's address for the connection-attempt limit; the interceptor, which has
   * no addresses, counts every connection as one local client.
   */
  open(pathAndQuery: string, port: SessionPort, ip = "local"): OpenResult {
    const limited = this.countAttempt(ip);
    if (limited) return limited;
    if (this.clock() < this.downUntil) {
      this.counts.refused++;
      return { ok: false, status: 503, reason: "exchange restarting" };
    }
    const u = new URL(pathAndQuery, "ws://x");
    let combined: boolean;
    let streams: string[];
    if (u.pathname === "/ws" || u.pathname === "/ws/") [combined, streams] = [false, []];
    else if (u.pathname.startsWith("/ws/")) [combined, streams] = [false, u.pathname.slice(4).split("/").filter(Boolean)];
    else if (u.pathname === "/stream") [combined, streams] = [true, (u.searchParams.get("streams") ?? "").split("/").filter(Boolean)];
    else return { ok: false, status: 404, reason: `no stream endpoint at ${u.pathname}` };
    streams = [...new Set(streams)];
    if (streams.length > this.limits.maxStreams) return { ok: false, status: 400, reason: `too many streams (${streams.length}); at most ${this.limits.maxStreams}` };
    this.counts.connections++;
    const session: Session = new Session(this.exchange, port, combined, streams, this.limits, this.clock, {
      restart: (ms) => this.restart(ms),
      closed: (s) => this.sessions.delete(s),
    }, `${this.opts.seed ?? "exchange"}/session${++this.n}`, this.opts.plan ?? NO_FAULTS);
    this.sessions.add(session);
    return { ok: true, session };
  }

  /**
   * Binance allows 300 connection attempts per 5 minutes per IP (a sliding window here). Every
   * upgrade request counts, whatever becomes of it (404, 400, 503 or a session), except the
   * ones this limit refuses: those are answered HTTP 429 with Retry-After, the moment the
   * oldest counted attempt leaves the window. Binance documents the limit but not the reply;
   * 429 + Retry-After is what it answers on REST when a rate limit is hit, and on the upgrade
   * it is visible to any client before a WebSocket exists (ws reports "Unexpected server
   * response: 429"), so a client can tell "slow down" from a dropped connection (1006). Not
   * counting refused attempts keeps Retry-After exact: a client that honours it gets in.
   */
  private countAttempt(ip: string): OpenResult | undefined {
    const now = this.clock();
    const { maxConnectAttempts: max, connectAttemptWindowMs: win } = this.limits;
    let q = this.attempts.get(ip);
    if (!q) {
      if (this.attempts.size >= 4096) for (const [k, v] of this.attempts) if (v.length === 0 || v[v.length - 1] <= now - win) this.attempts.delete(k);
      this.attempts.set(ip, (q = []));
    }
    let old = 0;
    while (old < q.length && q[old] <= now - win) old++;
    if (old) q.splice(0, old);
    if (q.length >= max) {
      this.counts.rateLimited++;
      const retryAfterMs = Math.max(1, q[q.length - max] + win - now);
      return { ok: false, status: 429, reason: `too many connection attempts from ${ip}: at most ${max} per ${win / 1000} s`, retryAfterMs };
    }
    q.push(now);
    return undefined;
  }

  /** Drops every connection and refuses connections and REST for downMs (the server-restart toxic). */
  restart(downMs: number): void {
    this.counts.restarts++;
    this.downUntil = this.clock() + downMs;
    this.rest.downUntil = this.downUntil;
    for (const s of [...this.sessions]) s.terminate();
  }

  /** Drops every connection and stops the market's clock (the server or interceptor is going away). */
  closeAll(): void {
    this.exchange.stop();
    for (const s of [...this.sessions]) s.terminate();
  }
}
