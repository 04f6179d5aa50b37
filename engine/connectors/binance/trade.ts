import type { Fixed } from "../../decimal.ts";

/**
 * One spot trade as flinch holds it: Binance's `@trade` payload with prices and quantities
 * parsed into exact 1e-8 units. `time` is the trade time T (event time for windows);
 * `eventTime` is E, when the exchange sent it (arrival time in the simulated feed).
 */
export interface Trade {
  readonly symbol: string;
  readonly id: number;
  readonly price: Fixed;
  readonly quantity: Fixed;
  readonly time: number;
  readonly eventTime: number;
  readonly isBuyerMaker: boolean;
}

/** Binance's `@trade` payload, exactly as sent on the wire. */
export interface TradePayload {
  e: "trade";
  E: number;
  s: string;
  t: number;
  p: string;
  q: string;
  T: number;
  m: boolean;
  M?: boolean;
  X?: string;
}
