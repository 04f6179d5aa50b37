import { StreamExecutionEnvironment } from "../engine/api/environment.ts";
import { WatermarkStrategy } from "../engine/api/watermark-strategy.ts";
import { TumblingEventTimeWindows } from "../engine/api/windows.ts";
import { Duration, Time } from "../engine/api/time.ts";
import { CheckpointingMode } from "../engine/api/checkpoint-config.ts";
import type { WindowSum } from "../engine/api/datastream.ts";
import { BinanceWebSocketSource } from "../engine/connectors/binance/source.ts";
import type { BinanceStreamFeed } from "../engine/connectors/binance/adapters/stream-feed.ts";
import { CollectSink, CollectStore } from "../engine/connectors/sinks/collect-sink.ts";
import { WallClockDriver } from "../engine/runtime/adapters/realtime-driver.ts";
import { Nemesis } from "../sim/faults/nemesis.ts";
import type { Tape } from "../sim/binance/tape.ts";
import { windowOracle } from "./oracle.ts";

/**
 * The reference job on the wall clock against real sockets (the ws and intercept tests), and its
 * oracle. A crash is a fault of the one fault model, interpreted by the one nemesis:
 * `crash@task.process#<n>[Source]`, the n-th step of a source task, not a wall-clock instant.
 */
export async function runRealtimeJob(tape: Tape, feed: BinanceStreamFeed, crashAtSourceStep?: number) {
  const faults = crashAtSourceStep === undefined ? undefined : new Nemesis([{ kind: "crash", point: "task.process", occurrence: crashAtSourceStep, task: "Source" }]);
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1, world: { feed, faults } });
  env.enableCheckpointing(100, CheckpointingMode.EXACTLY_ONCE);
  const store = new CollectStore<WindowSum>();
  env.fromSource(new BinanceWebSocketSource(...tape.symbols), WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(2)), "Binance Trade Source")
    .keyBy((t) => t.symbol).window(TumblingEventTimeWindows.of(Time.minutes(1))).sum("quantity").sinkTo(new CollectSink(store));
  const r = await env.execute("ws mode", new WallClockDriver());
  const got = store.committed.map((w) => `${w.key} ${w.start} ${w.sum} ${w.count}`).sort();
  const exp = windowOracle(tape, 60_000).map((w) => `${w.symbol} ${w.start} ${w.quantity} ${w.count}`).sort();
  return { r, got, exp };
}
