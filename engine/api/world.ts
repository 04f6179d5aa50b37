import type { Fs } from "../state/fs.ts";
import type { TradeFeed } from "../connectors/binance/feed.ts";
import type { FaultInjector } from "../checkpoint/faults.ts";

/**
 * The outside world the engine runs against. The engine only defines these interfaces;
 * sim/ plugs in the simulated ones (tape feed, SimFs, nemesis) and bin/ the real ones.
 */
export interface World {
  /** Where Binance sources read trades when they are not given a feed of their own. */
  readonly feed?: TradeFeed;
  readonly fs: Fs;
  readonly faults?: FaultInjector;
  /** Virtual time at which the run starts (the tape's first arrival, for a replay). */
  readonly startTime?: number;
}
