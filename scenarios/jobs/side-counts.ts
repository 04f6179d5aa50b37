import type { DataStream } from "../../engine/api/datastream.ts";
import type { StreamExecutionEnvironment } from "../../engine/api/environment.ts";
import type { Sink } from "../../engine/api/sink.ts";
import { TumblingEventTimeWindows } from "../../engine/api/windows.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";

interface Sides {
  buys: number;
  sells: number;
}

/**
 * Example job for `flinch chaos --job`: buy and sell trade counts per symbol and minute (a trade
 * whose buyer is the maker is a sell). The keyed-ValueState running total the issue asks for
 * needs KeyedProcessFunction, which lands with the ITCase work; until then the window state
 * carries the counts.
 */
export default function sideCounts(_env: StreamExecutionEnvironment, trades: DataStream<Trade>, sink: Sink<unknown>): void {
  trades
    .keyBy((t) => t.symbol)
    .window(TumblingEventTimeWindows.of(60_000))
    .aggregate<Sides, Sides, { symbol: string; start: number; buys: number; sells: number }>(
      {
        createAccumulator: () => ({ buys: 0, sells: 0 }),
        add: (t, a) => (t.isBuyerMaker ? { buys: a.buys, sells: a.sells + 1 } : { buys: a.buys + 1, sells: a.sells }),
        getResult: (a) => a,
        merge: (a, b) => ({ buys: a.buys + b.buys, sells: a.sells + b.sells }),
      },
      (symbol, w, a) => ({ symbol, start: w.start, buys: a.buys, sells: a.sells }),
    )
    .sinkTo(sink);
}
