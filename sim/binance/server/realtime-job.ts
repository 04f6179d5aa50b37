import { StreamExecutionEnvironment } from "../../../engine/api/environment.ts";
import { WatermarkStrategy } from "../../../engine/api/watermark-strategy.ts";
import { TumblingEventTimeWindows } from "../../../engine/api/windows.ts";
import { Duration, Time } from "../../../engine/api/time.ts";
import { CheckpointingMode } from "../../../engine/api/checkpoint-config.ts";
import type { WindowSum } from "../../../engine/api/datastream.ts";
import { InjectedCrash, type FaultInjector } from "../../../engine/checkpoint/faults.ts";
import { BinanceWebSocketSource } from "../../../engine/connectors/binance/source.ts";
import type { BinanceStreamFeed } from "../../../engine/connectors/binance/adapters/stream-feed.ts";
import { CollectSink, CollectStore } from "../../../engine/connectors/sinks/collect-sink.ts";
import { WallClockDriver } from "../../../engine/runtime/adapters/realtime-driver.ts";
import { windowOracle } from "../../../scenarios/oracle.ts";
import type { Tape } from "../tape.ts";

/** Shared by the ws and intercept tests: the reference job on the wall clock, and its oracle. */
export const FAST_TIMING = { stallTimeoutMs: 1_000, gapWaitMs: 100, reconnectBaseMs: 20, reconnectMaxMs: 500, restRetryBaseMs: 20, restRetryMaxMs: 500 };

export function rangeOf(tape: Tape): Record<string, { firstId: number; lastId: number }> {
  const r: Record<string, { firstId: number; lastId: number }> = {};
  for (const s of tape.symbols) {
    const t = tape.bySymbol.get(s)!;
    r[s] = { firstId: t[0].id, lastId: t[t.length - 1].id };
  }
  return r;
}

export async function runRealtimeJob(tape: Tape, feed: BinanceStreamFeed, crashAfterMs?: number) {
  let faults: FaultInjector | undefined;
  if (crashAfterMs !== undefined) {
    const t0 = Date.now(); // real-time: the crash is placed in wall time
    let done = false;
    faults = { check(site) {
      if (!done && site.point === "task.process" && site.task.startsWith("Source") && site.time >= t0 + crashAfterMs) { done = true; throw new InjectedCrash(site, 0); }
    } };
  }
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

