import type { DataStream } from "../../engine/api/datastream.ts";
import type { StreamExecutionEnvironment } from "../../engine/api/environment.ts";
import type { Sink } from "../../engine/api/sink.ts";
import { TumblingEventTimeWindows } from "../../engine/api/windows.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import { formatFixed } from "../../engine/decimal.ts";

/** Sums of price × quantity (scale 1e16) and of quantity (scale 1e8), kept as decimal strings so any backend can snapshot them. */
interface VwapAcc {
  pq: string;
  q: string;
  n: number;
}

/**
 * Example job for `flinch chaos --job`: the volume-weighted average price of each symbol per
 * 1-minute event-time window, exact (bigint fixed point, rounded down to 1e-8).
 */
export default function vwap(_env: StreamExecutionEnvironment, trades: DataStream<Trade>, sink: Sink<unknown>): void {
  trades
    .keyBy((t) => t.symbol)
    .window(TumblingEventTimeWindows.of(60_000))
    .aggregate<VwapAcc, VwapAcc, { symbol: string; start: number; vwap: string; volume: string; trades: number }>(
      {
        createAccumulator: () => ({ pq: "0", q: "0", n: 0 }),
        add: (t, a) => ({ pq: String(BigInt(a.pq) + t.price * t.quantity), q: String(BigInt(a.q) + t.quantity), n: a.n + 1 }),
        getResult: (a) => a,
        merge: (a, b) => ({ pq: String(BigInt(a.pq) + BigInt(b.pq)), q: String(BigInt(a.q) + BigInt(b.q)), n: a.n + b.n }),
      },
      (symbol, w, a) => ({ symbol, start: w.start, vwap: BigInt(a.q) === 0n ? "0" : formatFixed(BigInt(a.pq) / BigInt(a.q)), volume: formatFixed(BigInt(a.q)), trades: a.n }),
    )
    .sinkTo(sink);
}
