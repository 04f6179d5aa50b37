import { TradeFormatError } from "../../engine/connectors/binance/codec.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";

/**
 * The domain of a recorded trade: the one place that decides which values a fixture may hold
 * (docs/input-validation.md gives the reasons). The codec checks the wire shape (types,
 * decimals); this checks that the values are ones an exchange could have sent, because every
 * value outside these bounds has cost something real: a price of 0 or a quantity of 10^26 is
 * summed into a window without a word, a trade time in the year 2286 makes the simulator walk
 * centuries of virtual time, and a symbol such as `../../etc` ends up in file names.
 */

/** Binance opened in July 2017; no recording holds an earlier trade. */
export const EARLIEST_TRADE_TIME = Date.UTC(2017, 0, 1);
/** How far past "now" a trade time may lie (clock skew between a recorder and the exchange). */
export const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;
/**
 * The latest trade time when the caller passes no "now" (sim/ never reads the wall clock):
 * a fixed ceiling, so even an API caller cannot load the year 2286. The CLI passes now + 1 day.
 */
export const DEFAULT_LATEST_TRADE_TIME = Date.UTC(2100, 0, 1);
/** 10^12 in 1e-8 units: above Binance's largest lot filter (SHIB's ~9.2e9), far below what breaks anything. */
export const MAX_QUANTITY = 1_000_000_000_000n * 100_000_000n;
/** 10^12 per unit: no listed asset's price comes near it. */
export const MAX_PRICE = 1_000_000_000_000n * 100_000_000n;
/** Binance symbols are upper-case letters and digits; `-`, `_`, `.` appear in other venues' names. */
export const SYMBOL_PATTERN = /^[A-Z0-9\-_.]{1,20}$/;

export interface TradeBounds {
  /** Earliest allowed trade (and event) time, ms since epoch. */
  readonly earliest: number;
  /** Latest allowed trade (and event) time, ms since epoch. */
  readonly latest: number;
}

/** The bounds for a given "now" (the CLI's one wall-clock read), or the fixed ceiling without one. */
export function tradeBounds(nowMs?: number, allowFuture = false): TradeBounds {
  if (allowFuture) return { earliest: EARLIEST_TRADE_TIME, latest: Number.MAX_SAFE_INTEGER };
  return { earliest: EARLIEST_TRADE_TIME, latest: nowMs === undefined ? DEFAULT_LATEST_TRADE_TIME : nowMs + FUTURE_SLACK_MS };
}

/** A symbol as the loader accepts it (from a file, a file name or --symbol); throws naming `field`. */
export function checkSymbol(symbol: string, field: string): void {
  if (goodSymbols.has(symbol)) return;
  if (!SYMBOL_PATTERN.test(symbol)) {
    throw new TradeFormatError(field, `symbol ${JSON.stringify(symbol.length > 30 ? symbol.slice(0, 30) + "…" : symbol)} is not 1-20 of A-Z 0-9 - _ .`);
  }
  if (goodSymbols.size < 4096) goodSymbols.add(symbol);
}

/** Symbols already accepted: every trade is checked, and a tape names a handful, so a Set hit replaces the regex. */
const goodSymbols = new Set<string>();

/**
 * Throws TradeFormatError naming the field (with the wire name the fixture used: `T`, `time`, ...)
 * when a decoded trade lies outside the domain. `names` maps the domain fields to the file's names.
 */
export function checkTrade(t: Trade, bounds: TradeBounds, names: TradeFieldNames = JSON_NAMES): void {
  checkSymbol(t.symbol, names.symbol);
  // Every trade of a tape passes through here: one run of plain comparisons for the usual case,
  // and only a trade that fails one of them goes through the checks below to be named.
  const { id, time, eventTime, price, quantity } = t;
  if (id >= 0 && Number.isSafeInteger(id) && time >= bounds.earliest && time <= bounds.latest && eventTime >= bounds.earliest && eventTime <= bounds.latest &&
    price > 0n && price <= MAX_PRICE && quantity > 0n && quantity <= MAX_QUANTITY) return;
  if (!Number.isSafeInteger(t.id) || t.id < 0) throw new TradeFormatError(names.id, `trade id must be a non-negative integer, got ${t.id}`);
  checkTime(t.time, names.time, bounds);
  if (t.eventTime !== t.time || names.eventTime !== names.time) checkTime(t.eventTime, names.eventTime, bounds);
  if (t.price <= 0n) throw new TradeFormatError(names.price, "price must be > 0");
  if (t.price > MAX_PRICE) throw new TradeFormatError(names.price, "price above 10^12: not a price any exchange quotes");
  if (t.quantity <= 0n) throw new TradeFormatError(names.quantity, "quantity must be > 0");
  if (t.quantity > MAX_QUANTITY) throw new TradeFormatError(names.quantity, "quantity above 10^12: not a lot any exchange trades");
}

function checkTime(v: number, field: string, b: TradeBounds): void {
  if (v < b.earliest) throw new TradeFormatError(field, `time ${v} is before ${iso(b.earliest)}${v < 0 ? " (negative)" : ""}`);
  if (v > b.latest) {
    throw new TradeFormatError(field, `time ${v} is after ${iso(b.latest)} (now + 1 day); pass --allow-future to replay such a tape`);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface TradeFieldNames {
  symbol: string;
  id: string;
  time: string;
  eventTime: string;
  price: string;
  quantity: string;
}

/** The `@trade` payload's names. */
export const JSON_NAMES: TradeFieldNames = { symbol: "s", id: "t", time: "T", eventTime: "E", price: "p", quantity: "q" };
/** data.binance.vision CSV column names (the symbol comes from the file name or --symbol). */
export const CSV_NAMES: TradeFieldNames = { symbol: "symbol", id: "id", time: "time", eventTime: "time", price: "price", quantity: "qty" };
