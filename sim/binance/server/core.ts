import type { Tape } from "../tape.ts";
import { NO_FAULTS, type FeedFaultPlan } from "../toxics.ts";
import { Exchange, type Pace } from "./exchange.ts";
import { RestApi } from "./rest.ts";
import { BINANCE_LIMITS, Session, type SessionLimits, type SessionPort } from "./session.ts";

/**
 * The exchange with its REST API and stream sessions, independent of any transport: the ws
 * server (server.ts) and the interceptor (../intercept.ts) both put their sockets on it.
 */
export interface ExchangeOptions {
  tape: Tape;
  /** "max" (as fast as the client reads, the default) or { speed: 1 } for the recorded pace, N for N× faster. */
  pace?: Pace;
  plan?: FeedFaultPlan;
  seed?: string;
  limits?: Partial<SessionLimits>;
  /** REST request weight per IP per minute (Binance: 6000). */
  weightLimit?: number;
  banMs?: number;
}

export type OpenResult = { ok: true; session: Session } | { ok: false; status: number; reason: string };

export class ExchangeCore {
  readonly exchange: Exchange;
  readonly rest: RestApi;
  readonly limits: SessionLimits;
  readonly sessions = new Set<Session>();
  private downUntil = -Infinity;
  private n = 0;
  /** Counts for tests and the serve command. */
  readonly counts = { connections: 0, refused: 0, restarts: 0 };

  constructor(private readonly opts: ExchangeOptions, readonly clock: () => number) {
    this.exchange = new Exchange(opts.tape, opts.pace ?? "max", clock);
    this.rest = new RestApi(this.exchange, clock, { weightLimit: opts.weightLimit, banMs: opts.banMs, plan: opts.plan, seed: opts.seed });
    this.limits = { ...BINANCE_LIMITS, ...opts.limits };
  }

  /** Parses a stream URL path (`/ws/a@trade[/b@trade]`, `/stream?streams=a/b`) and opens a session on `port`. */
  open(pathAndQuery: string, port: SessionPort): OpenResult {
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

  /** Drops every connection and refuses connections and REST for downMs (the server-restart toxic). */
  restart(downMs: number): void {
    this.counts.restarts++;
    this.downUntil = this.clock() + downMs;
    this.rest.downUntil = this.downUntil;
    for (const s of [...this.sessions]) s.terminate();
  }

  closeAll(): void {
    for (const s of [...this.sessions]) s.terminate();
  }
}
