import { StreamExecutionEnvironment, type EnvironmentOptions, type JobExecutionResult } from "../engine/api/environment.ts";
import { CheckpointingMode } from "../engine/api/checkpoint-config.ts";
import { Duration } from "../engine/api/time.ts";
import { WatermarkStrategy } from "../engine/api/watermark-strategy.ts";
import { OutputTag, TumblingEventTimeWindows } from "../engine/api/windows.ts";
import { BinanceWebSocketSource } from "../engine/connectors/binance/source.ts";
import { CollectSink, CollectStore } from "../engine/connectors/sinks/collect-sink.ts";
import type { Trade } from "../engine/connectors/binance/trade.ts";
import type { WindowSum } from "../engine/api/datastream.ts";
import type { LateRecord } from "../engine/runtime/window-operator.ts";
import { SimulatedTradeFeed } from "../sim/binance/sim-feed.ts";
import type { Tape } from "../sim/binance/tape.ts";
import type { CommittedRow } from "./committed.ts";
import { lateTotals } from "./run-scenario.ts";

export interface SumJobOptions {
  parallelism?: number;
  sourceParallelism?: number;
  batchSize?: number;
  windowMs?: number;
  outOfOrdernessMs?: number;
  checkpointMs?: number;
  mode?: CheckpointingMode;
  seed?: string | number;
  keepTrace?: boolean;
  env?: Partial<EnvironmentOptions>;
}

/**
 * The seed job over an in-memory tape into a transactional in-memory sink, with late data on
 * a side output: the shape most tests need, in one place.
 */
export function runSumJob(tape: Tape, o: SumJobOptions = {}): { rows: CommittedRow[]; lateRecords: LateRecord<Trade>[]; late: ReturnType<typeof lateTotals>; result: JobExecutionResult } {
  const feed = new SimulatedTradeFeed(tape);
  const env = StreamExecutionEnvironment.getExecutionEnvironment({
    seed: o.seed ?? 1, keepTrace: o.keepTrace, log: { warn() {}, info() {} },
    world: { feed, startTime: feed.startTime() }, execution: o.batchSize ? { batchSize: o.batchSize } : undefined, ...o.env,
  });
  env.setParallelism(o.parallelism ?? 1);
  if (o.checkpointMs) env.enableCheckpointing(o.checkpointMs, o.mode ?? CheckpointingMode.EXACTLY_ONCE);
  const store = new CollectStore<WindowSum>();
  const lateStore = new CollectStore<LateRecord<Trade>>();
  const LATE = new OutputTag<LateRecord<Trade>>("late");
  const sums = env
    .fromSource(new BinanceWebSocketSource(...tape.symbols), WatermarkStrategy.forBoundedOutOfOrderness<Trade>(Duration.ofMillis(o.outOfOrdernessMs ?? 2_000)), "Binance Trade Source")
    .setParallelism(o.sourceParallelism ?? o.parallelism ?? 1)
    .keyBy((t) => t.symbol)
    .window(TumblingEventTimeWindows.of(o.windowMs ?? 60_000))
    .sideOutputLateData(LATE)
    .sum("quantity");
  sums.sinkTo(new CollectSink(store));
  sums.getSideOutput(LATE).sinkTo(new CollectSink(lateStore));
  const result = env.executeSync("sum-job");
  const rows = store.committed.map((w) => ({ symbol: String(w.key), start: w.start, end: w.end, quantity: w.sum as bigint, count: w.count }));
  return { rows, lateRecords: lateStore.committed, late: lateTotals(result), result };
}
