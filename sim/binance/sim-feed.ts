import type { Kernel } from "../../engine/kernel/kernel.ts";
import { FEED_ENDED, type TradeFeed, type TradeSubscription } from "../../engine/connectors/binance/feed.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import type { Tape } from "./tape.ts";

/**
 * The exchange in virtual time, in process: each trade arrives at its event time E. A
 * subscription that resumes after a checkpointed id gets the trades after it at once (what a
 * REST backfill returns), then the rest as they arrive. The tape is bounded, so the feed ends.
 */
export class SimulatedTradeFeed implements TradeFeed {
  readonly bounded = true;
  constructor(readonly tape: Tape) {}

  symbols(): readonly string[] {
    return this.tape.symbols;
  }

  /** Virtual time of the first arrival: where a replay's clock starts. */
  startTime(): number {
    let t = Infinity;
    for (const trades of this.tape.bySymbol.values()) if (trades.length && trades[0].eventTime < t) t = trades[0].eventTime;
    return t === Infinity ? 0 : t;
  }

  subscribe(symbol: string, _kernel: Kernel, afterId?: number): TradeSubscription {
    const trades = this.tape.bySymbol.get(symbol) ?? [];
    let i = 0;
    if (afterId !== undefined) {
      // First trade with id > afterId (ids ascend).
      let lo = 0, hi = trades.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (trades[mid].id <= afterId) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    // Arrival times never go backwards on one connection, even if E does in a fixture.
    let floor = -Infinity;
    return {
      poll(now: number, max: number, out: Trade[]): number {
        let n = 0;
        while (i < trades.length && n < max) {
          const t = trades[i];
          const at = t.eventTime > floor ? t.eventTime : floor;
          if (at > now) return at;
          floor = at;
          out.push(t);
          i++;
          n++;
        }
        if (i >= trades.length) return FEED_ENDED;
        const at = trades[i].eventTime > floor ? trades[i].eventTime : floor;
        return at;
      },
      close() {},
    };
  }
}
