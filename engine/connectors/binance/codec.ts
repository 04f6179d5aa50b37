import { formatFixed, parseFixed } from "../../decimal.ts";
import type { Trade, TradePayload } from "./trade.ts";

/**
 * The Binance wire format for trades, in one place: the source parses with it, the simulated
 * exchange encodes with it, and the fixture loader reads recordings with it.
 */

/** A message that claims to be a trade but is not a valid one; `field` names what is wrong. */
export class TradeFormatError extends Error {
  override readonly name = "TradeFormatError";
  constructor(readonly field: string, reason: string) {
    super(field ? `field "${field}": ${reason}` : reason);
  }
}

export type DecodedMessage =
  | { kind: "trade"; trade: Trade; stream?: string }
  | { kind: "other"; what: string };

function req(o: Record<string, unknown>, f: string, type: "string" | "number" | "boolean"): any {
  const v = o[f];
  if (v === undefined) throw new TradeFormatError(f, "missing");
  if (typeof v !== type) throw new TradeFormatError(f, `expected ${type}, got ${v === null ? "null" : typeof v}`);
  if (type === "number" && !Number.isSafeInteger(v as number)) throw new TradeFormatError(f, `not an integer: ${v}`);
  return v;
}

function fixedField(o: Record<string, unknown>, f: string) {
  const s = req(o, f, "string") as string;
  try {
    return parseFixed(s);
  } catch (e) {
    throw new TradeFormatError(f, (e as Error).message);
  }
}

/** Turns a parsed `@trade` payload into a Trade, checking every field it uses. */
export function tradeFromPayload(o: Record<string, unknown>): Trade {
  const symbol = req(o, "s", "string") as string;
  if (symbol.length === 0) throw new TradeFormatError("s", "empty symbol");
  const id = req(o, "t", "number") as number;
  if (id < 0) throw new TradeFormatError("t", `negative trade id ${id}`);
  const time = req(o, "T", "number") as number;
  const eventTime = o.E === undefined ? time : (req(o, "E", "number") as number);
  return {
    symbol: symbol.toUpperCase(),
    id,
    price: fixedField(o, "p"),
    quantity: fixedField(o, "q"),
    time,
    eventTime,
    isBuyerMaker: req(o, "m", "boolean") as boolean,
  };
}

/**
 * Classifies one decoded JSON message from a Binance stream: a raw trade payload, a
 * combined-stream wrapper `{"stream","data"}` around one, or anything else (subscription
 * replies, bookTicker, depth), which the caller skips and counts under `what`.
 */
export function decodeMessage(msg: unknown): DecodedMessage {
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    throw new TradeFormatError("", `expected a JSON object, got ${Array.isArray(msg) ? "array" : msg === null ? "null" : typeof msg}`);
  }
  const o = msg as Record<string, unknown>;
  if (typeof o.stream === "string" && "data" in o) {
    const inner = decodeMessage(o.data);
    if (inner.kind === "trade") return { kind: "trade", trade: inner.trade, stream: o.stream };
    return { kind: "other", what: streamKind(o.stream) };
  }
  if (o.e === "trade") return { kind: "trade", trade: tradeFromPayload(o) };
  if ("result" in o && "id" in o) return { kind: "other", what: "reply" };
  if (typeof o.e === "string") return { kind: "other", what: o.e };
  if ("u" in o && "b" in o && "a" in o) return { kind: "other", what: "bookTicker" };
  if ("lastUpdateId" in o) return { kind: "other", what: "depth" };
  return { kind: "other", what: "unknown" };
}

function streamKind(stream: string): string {
  const at = stream.indexOf("@");
  return at < 0 ? stream : stream.slice(at + 1);
}

/** The payload Binance would send for this trade (prices and quantities with 8 decimals). */
export function tradeToPayload(t: Trade): TradePayload {
  return {
    e: "trade",
    E: t.eventTime,
    s: t.symbol,
    t: t.id,
    p: formatFixed(t.price),
    q: formatFixed(t.quantity),
    T: t.time,
    m: t.isBuyerMaker,
    M: true,
  };
}

/** One trade as Binance's REST `/api/v3/trades` and `/api/v3/historicalTrades` return it. */
export interface RestTrade {
  id: number;
  price: string;
  qty: string;
  quoteQty: string;
  time: number;
  isBuyerMaker: boolean;
  isBestMatch: boolean;
}

/** The REST shape of a trade; quoteQty = price × qty, exact, 8 decimals. */
export function tradeToRest(t: Trade): RestTrade {
  return {
    id: t.id,
    price: formatFixed(t.price),
    qty: formatFixed(t.quantity),
    quoteQty: formatFixed((t.price * t.quantity) / 100_000_000n),
    time: t.time,
    isBuyerMaker: t.isBuyerMaker,
    isBestMatch: true,
  };
}

/** A REST trade object (which carries no symbol and no E) as a Trade; E is taken to be T. */
export function tradeFromRest(symbol: string, o: unknown): Trade {
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new TradeFormatError("", "expected a REST trade object");
  const r = o as Record<string, unknown>;
  const id = req(r, "id", "number") as number;
  if (id < 0) throw new TradeFormatError("id", `negative trade id ${id}`);
  const time = req(r, "time", "number") as number;
  return {
    symbol: symbol.toUpperCase(),
    id,
    price: fixedField(r, "price"),
    quantity: fixedField(r, "qty"),
    time,
    eventTime: time,
    isBuyerMaker: req(r, "isBuyerMaker", "boolean") as boolean,
  };
}
