import { tradeToRest } from "../../../engine/connectors/binance/codec.ts";
import { Rng } from "../../../engine/kernel/rng.ts";
import { NO_FAULTS, restDecision, type FeedFaultPlan } from "../toxics.ts";
import type { Exchange, SymbolBook } from "./exchange.ts";
import { aggAt, aggsPublished, aggTrades } from "./agg-trades.ts";
import { rateLimits, symbolInfo } from "./exchange-info.ts";
import { avgPrice, bookTicker, depth, INTERVALS, klines, priceTicker, ticker24h } from "./market-data.ts";

/**
 * Binance's public REST market endpoints over the exchange, transport-free: node:http and
 * the fetch interceptor both call `handle`. Request weight is counted per IP per calendar
 * minute (X-MBX-USED-WEIGHT-1M); over the limit the answer is 429 with Retry-After, and a
 * client that keeps asking before Retry-After has passed gets 418 (an IP ban), as Binance does.
 */
export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Hold the answer this long (the rest-timeout toxic). */
  delayMs?: number;
}

export interface RestOptions {
  /** Request weight per IP per minute (Binance: 6000). */
  weightLimit?: number;
  /** Ban length after a request during a 429 back-off (Binance starts at 2 minutes). */
  banMs?: number;
  plan?: FeedFaultPlan;
  seed?: string;
}

const WEIGHTS: Record<string, number> = {
  "/api/v3/ping": 1, "/api/v3/time": 1, "/api/v3/exchangeInfo": 20, "/api/v3/trades": 25, "/api/v3/historicalTrades": 25, "/api/v3/aggTrades": 4,
  "/api/v3/klines": 2, "/api/v3/depth": 5, "/api/v3/ticker/24hr": 2, "/api/v3/ticker/price": 2, "/api/v3/ticker/bookTicker": 2, "/api/v3/avgPrice": 2,
};

/** Binance's request weight; depth and ticker/24hr weigh by what they ask for. */
function weightOf(path: string, q: URLSearchParams): number | undefined {
  if (path === "/api/v3/depth") {
    const n = Number(q.get("limit") ?? 100);
    return n <= 100 ? 5 : n <= 500 ? 25 : n <= 1000 ? 50 : 250;
  }
  if (path === "/api/v3/ticker/24hr" && q.get("symbol") === null) {
    const many = q.get("symbols");
    const n = many === null ? Infinity : many.split(",").length;
    return n <= 20 ? 2 : n <= 100 ? 40 : 80;
  }
  if ((path === "/api/v3/ticker/price" || path === "/api/v3/ticker/bookTicker") && q.get("symbol") === null) return 4;
  return WEIGHTS[path];
}

type Ip = { minute: number; used: number; retryUntil: number; bannedUntil: number };

const err = (status: number, code: number, msg: string, headers: Record<string, string> = {}): RestResponse => ({
  status, headers: { "content-type": "application/json;charset=UTF-8", ...headers }, body: JSON.stringify({ code, msg }),
});

class BadRequest extends Error {
  constructor(readonly response: RestResponse) {
    super(response.body);
  }
}

export class RestApi {
  private readonly ips = new Map<string, Ip>();
  private readonly rng: Rng;
  private readonly plan: FeedFaultPlan;
  /** The exchange refuses REST until then (server-restart toxic). */
  downUntil = -Infinity;

  constructor(private readonly ex: Exchange, private readonly clock: () => number, private readonly opts: RestOptions = {}) {
    this.plan = opts.plan ?? NO_FAULTS;
    this.rng = new Rng(`${opts.seed ?? "rest"}/rest`);
  }

  handle(method: string, url: URL, ip: string): RestResponse {
    const now = this.clock();
    this.ex.start(now);
    const path = url.pathname;
    const weight = weightOf(path, url.searchParams);
    if (weight === undefined) return err(404, -1000, `Unknown endpoint ${path}`);
    if (method !== "GET") return err(405, -1000, `Method ${method} not allowed on ${path}`);
    if (now < this.downUntil) return err(503, -1001, "Internal error; unable to process your request. Please try again.");

    const s = this.ipState(ip, now);
    if (now < s.bannedUntil) return err(418, -1003, `Way too many requests; IP(${ip}) banned until ${Math.ceil(s.bannedUntil)}. Please use WebSocket Streams for live updates to avoid bans.`, { "retry-after": String(Math.ceil((s.bannedUntil - now) / 1000)) });
    if (now < s.retryUntil) {
      s.bannedUntil = now + (this.opts.banMs ?? 120_000);
      return err(418, -1003, `Way too many requests; IP(${ip}) banned until ${Math.ceil(s.bannedUntil)}. Please use WebSocket Streams for live updates to avoid bans.`, { "retry-after": String(Math.ceil((s.bannedUntil - now) / 1000)) });
    }
    const limit = this.opts.weightLimit ?? 6000;
    if (s.used + weight > limit) {
      s.retryUntil = (s.minute + 1) * 60_000;
      return err(429, -1003, `Too many requests; current limit of IP(${ip}) request weight per 1 MINUTE is ${limit}. Please use WebSocket Streams for live updates to avoid bans.`, {
        "retry-after": String(Math.ceil((s.retryUntil - now) / 1000)), "x-mbx-used-weight-1m": String(s.used), "x-mbx-used-weight": String(s.used),
      });
    }
    s.used += weight;
    const wh = { "x-mbx-used-weight-1m": String(s.used), "x-mbx-used-weight": String(s.used) };

    const d = restDecision(this.plan, this.rng);
    if (d.kind === "429") return err(429, -1003, "Too many requests (injected).", { ...wh, "retry-after": String(Math.ceil(d.retryAfterMs / 1000)) });
    if (d.kind === "5xx") return err(d.status, -1001, "Internal error; unable to process your request. Please try again.", wh);
    try {
      const body = JSON.stringify(this.route(path, url.searchParams, now));
      return { status: 200, headers: { "content-type": "application/json;charset=UTF-8", ...wh }, body, delayMs: d.kind === "timeout" ? d.ms : undefined };
    } catch (e) {
      if (e instanceof BadRequest) return { ...e.response, headers: { ...e.response.headers, ...wh } };
      throw e;
    }
  }

  private ipState(ip: string, now: number): Ip {
    const minute = Math.floor(now / 60_000);
    let s = this.ips.get(ip);
    if (!s) this.ips.set(ip, (s = { minute, used: 0, retryUntil: -Infinity, bannedUntil: -Infinity }));
    if (s.minute !== minute) {
      s.minute = minute;
      s.used = 0;
    }
    return s;
  }

  private route(path: string, q: URLSearchParams, now: number): unknown {
    const ex = this.ex;
    switch (path) {
      case "/api/v3/ping": return {};
      case "/api/v3/time": return { serverTime: ex.marketTime(now) };
      case "/api/v3/exchangeInfo": return this.exchangeInfo(q, now);
      case "/api/v3/trades": {
        const b = this.symbol(q);
        const n = ex.published(b, now);
        return this.tradesAt(b, n - this.limit(q), n);
      }
      case "/api/v3/historicalTrades": {
        const b = this.symbol(q);
        const n = ex.published(b, now);
        const limit = this.limit(q);
        const fromId = this.long(q, "fromId");
        if (fromId === undefined) return this.tradesAt(b, n - limit, n);
        const from = ex.positionOfId(b, fromId);
        return this.tradesAt(b, from, Math.min(n, from + limit));
      }
      case "/api/v3/aggTrades": return this.aggTrades(q, now);
      case "/api/v3/klines": {
        const b = this.symbol(q);
        const iv = q.get("interval");
        if (iv === null || iv === "") throw new BadRequest(err(400, -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."));
        const ms = INTERVALS[iv];
        if (ms === undefined) throw new BadRequest(err(400, -1120, "Invalid interval."));
        const startTime = this.long(q, "startTime"), endTime = this.long(q, "endTime");
        if (startTime !== undefined && endTime !== undefined && startTime > endTime) throw new BadRequest(err(400, -1023, "Start time is greater than end time."));
        return klines(ex, b, ms, { startTime, endTime, limit: this.limit(q) });
      }
      case "/api/v3/depth": {
        const b = this.symbol(q);
        const limit = this.long(q, "limit") ?? 100;
        if (limit < 1) throw new BadRequest(err(400, -1130, "Data sent for parameter 'limit' is not valid."));
        return depth(ex, b, Math.min(limit, 5000));
      }
      case "/api/v3/ticker/24hr": {
        const type = q.get("type") ?? "FULL";
        if (type !== "FULL" && type !== "MINI") throw new BadRequest(err(400, -1139, "Invalid ticker type."));
        if (q.get("symbol") !== null) return ticker24h(ex, this.symbol(q), type === "FULL");
        const names = q.get("symbols") !== null ? this.symbolList(q) : [...ex.books.keys()];
        return names.map((s) => ticker24h(ex, ex.book(s)!, type === "FULL"));
      }
      case "/api/v3/ticker/price":
      case "/api/v3/ticker/bookTicker": {
        const one = (b: SymbolBook) => (path === "/api/v3/ticker/price" ? priceTicker(ex, b) : bookTicker(ex, b));
        if (q.get("symbol") !== null) return one(this.symbol(q));
        return (q.get("symbols") !== null ? this.symbolList(q) : [...ex.books.keys()]).map((s) => one(ex.book(s)!));
      }
      case "/api/v3/avgPrice": return avgPrice(ex, this.symbol(q));
    }
    throw new Error(`unrouted ${path}`);
  }

  /** Trades at global positions [from, to), as REST trade objects. */
  private tradesAt(b: SymbolBook, from: number, to: number): unknown[] {
    const out: unknown[] = [];
    for (let g = Math.max(0, from); g < to; g++) out.push(tradeToRest(this.ex.trade(b, g)));
    return out;
  }

  private aggTrades(q: URLSearchParams, now: number): unknown[] {
    const ex = this.ex;
    const b = this.symbol(q);
    const limit = this.limit(q);
    const n = aggsPublished(b, ex.published(b, now));
    const aggs = aggTrades(b).list;
    const fromId = this.long(q, "fromId"), start = this.long(q, "startTime"), end = this.long(q, "endTime");
    if (start !== undefined && end !== undefined && end - start > 3_600_000) throw new BadRequest(err(400, -1127, "More than 1 hours between startTime and endTime."));
    if (fromId === undefined && start === undefined && end === undefined) return this.aggsAt(b, n - limit, n, Infinity);
    let k = 0;
    if (fromId !== undefined && aggs.length) k = Math.max(k, fromId - aggs[0].a);
    if (start !== undefined) {
      // first aggregate with T >= start: aggregates of a lap are in time order
      let lo = k, hi = n;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (aggAt(ex, b, mid).T < start) lo = mid + 1;
        else hi = mid;
      }
      k = lo;
    }
    return this.aggsAt(b, k, Math.min(n, k + limit), end ?? Infinity);
  }

  private aggsAt(b: SymbolBook, from: number, to: number, endTime: number): unknown[] {
    const out: unknown[] = [];
    for (let k = Math.max(0, from); k < to; k++) {
      const a = aggAt(this.ex, b, k);
      if (a.T > endTime) break;
      out.push(a);
    }
    return out;
  }

  private symbolList(q: URLSearchParams): string[] {
    let list: unknown;
    try { list = JSON.parse(q.get("symbols")!); } catch { list = undefined; }
    if (!Array.isArray(list) || list.some((x) => typeof x !== "string")) throw new BadRequest(err(400, -1100, "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'."));
    for (const s of list as string[]) if (!this.ex.book(s)) throw new BadRequest(err(400, -1121, "Invalid symbol."));
    return (list as string[]).map((s) => s.toUpperCase());
  }

  private exchangeInfo(q: URLSearchParams, now: number): unknown {
    let names = [...this.ex.books.keys()];
    if (q.get("symbol") !== null) names = [this.symbol(q).symbol];
    else if (q.get("symbols") !== null) names = this.symbolList(q);
    return {
      timezone: "UTC", serverTime: this.ex.marketTime(now),
      rateLimits: rateLimits(this.opts.weightLimit ?? 6000),
      exchangeFilters: [],
      symbols: names.map((s) => symbolInfo(this.ex.book(s)!)),
    };
  }

  private symbol(q: URLSearchParams): SymbolBook {
    const s = q.get("symbol");
    if (s === null || s === "") throw new BadRequest(err(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."));
    if (!/^[A-Z0-9-_.]{1,20}$/.test(s)) throw new BadRequest(err(400, -1100, "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'."));
    const b = this.ex.book(s);
    if (!b) throw new BadRequest(err(400, -1121, "Invalid symbol."));
    return b;
  }

  private limit(q: URLSearchParams): number {
    const n = this.long(q, "limit") ?? 500;
    if (n < 1 || n > 1000) throw new BadRequest(err(400, -1130, "Data sent for parameter 'limit' is not valid."));
    return n;
  }

  private long(q: URLSearchParams, name: string): number | undefined {
    const v = q.get(name);
    if (v === null) return undefined;
    if (!/^[0-9]{1,20}$/.test(v) || !Number.isSafeInteger(Number(v))) throw new BadRequest(err(400, -1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`));
    return Number(v);
  }
}
