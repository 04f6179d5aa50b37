import type { DataStream } from "../../engine/api/datastream.ts";
import type { StreamExecutionEnvironment } from "../../engine/api/environment.ts";
import { KeyedProcessFunction, MapStateDescriptor, ValueStateDescriptor, type Collector, type KeyedProcessContext, type OnTimerContext } from "../../engine/api/functions.ts";
import type { Sink } from "../../engine/api/sink.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import type { MapState, ValueState } from "../../engine/state/keyed-state.ts";

interface Sides {
  buys: number;
  sells: number;
}

interface MinuteRow {
  symbol: string;
  start: number;
  buys: number;
  sells: number;
  /** The running totals since the job began, kept in a keyed ValueState. */
  totalBuys: number;
  totalSells: number;
}

const MINUTE = 60_000;

/**
 * Buy and sell trade counts per symbol and minute (a trade whose buyer is the maker is a sell),
 * with the running totals since the start in a keyed ValueState: a minute is emitted when the
 * watermark passes its end (an event-time timer), and the running total is exactly-once only if
 * the keyed state, the timers and the sink's transactions are restored together.
 */
class SideCounts extends KeyedProcessFunction<string, Trade, MinuteRow> {
  private total!: ValueState<Sides>;
  private minutes!: MapState<number, Sides>;

  override open(): void {
    this.total = this.getRuntimeContext().getState(new ValueStateDescriptor<Sides>("total"));
    this.minutes = this.getRuntimeContext().getMapState(new MapStateDescriptor<number, Sides>("minutes"));
  }

  processElement(t: Trade, ctx: KeyedProcessContext<string>, _out: Collector<MinuteRow>): void {
    const start = Math.floor(ctx.timestamp() / MINUTE) * MINUTE;
    const m = this.minutes.get(start) ?? { buys: 0, sells: 0 };
    this.minutes.put(start, t.isBuyerMaker ? { buys: m.buys, sells: m.sells + 1 } : { buys: m.buys + 1, sells: m.sells });
    ctx.timerService().registerEventTimeTimer(start + MINUTE - 1);
  }

  override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<MinuteRow>): void {
    const start = ts - (MINUTE - 1);
    const m = this.minutes.get(start);
    if (!m) return;
    const before = this.total.value() ?? { buys: 0, sells: 0 };
    const total = { buys: before.buys + m.buys, sells: before.sells + m.sells };
    this.total.update(total);
    this.minutes.remove(start);
    out.collect({ symbol: ctx.getCurrentKey(), start, buys: m.buys, sells: m.sells, totalBuys: total.buys, totalSells: total.sells });
  }
}

/** Example job for `flinch chaos --job`: checked row for row against its fault-free reference run. */
export default function sideCounts(_env: StreamExecutionEnvironment, trades: DataStream<Trade>, sink: Sink<unknown>): void {
  trades
    .keyBy((t) => t.symbol)
    .process(new SideCounts())
    .sinkTo(sink);
}
