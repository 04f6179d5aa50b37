import type { DataStream } from "../../engine/api/datastream.ts";
import type { StreamExecutionEnvironment } from "../../engine/api/environment.ts";
import type { Sink } from "../../engine/api/sink.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";

/**
 * A wrong job, kept as the reference oracle's teeth: it numbers each symbol's trades in a
 * closure, not in checkpointed state. After a restore the counters restart from where the
 * crashed attempt left them instead of the checkpoint, so rows differ from the reference run.
 */
export default function closureCount(_env: StreamExecutionEnvironment, trades: DataStream<Trade>, sink: Sink<unknown>): void {
  const seen = new Map<string, number>();
  trades
    .filter((t) => t.id % 50 === 0)
    .map((t) => {
      const n = (seen.get(t.symbol) ?? 0) + 1;
      seen.set(t.symbol, n);
      return { symbol: t.symbol, id: t.id, n };
    })
    .sinkTo(sink);
}
