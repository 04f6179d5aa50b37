import type { Kernel } from "../../kernel/kernel.ts";
import type { Trade } from "./trade.ts";

/**
 * What a Binance source reads trades from. The engine defines it; sim/binance implements the
 * simulated exchange (tape in virtual time) and connectors' transports the real ones.
 */
export interface TradeFeed {
  /** A bounded feed ends (a replayed tape); a live one does not. */
  readonly bounded: boolean;
  /** Symbols the feed serves, upper case. */
  symbols(): readonly string[];
  /**
   * Subscribes to one symbol; `afterId` resumes after a checkpointed trade id (REST backfill
   * from afterId + 1). A feed on real sockets calls `onData` when trades arrive, so the source
   * is polled again; the simulated feed never needs it (it answers with arrival times).
   */
  subscribe(symbol: string, kernel: Kernel, afterId?: number, onData?: () => void): TradeSubscription;
}

/** Returned by `poll` when the symbol's input has ended for good. */
export const FEED_ENDED = -1;

export interface TradeSubscription {
  /**
   * Moves up to `max` trades that have arrived by `now` into `out` (in arrival order) and
   * returns the arrival time of the next one, Infinity when none is known yet, or FEED_ENDED.
   */
  poll(now: number, max: number, out: Trade[]): number;
  close(): void;
}
