import { StreamExecutionEnvironment, type JobExecutionResult } from "../engine/api/environment.ts";
import type { World } from "../engine/api/world.ts";
import type { Logger } from "../engine/api/logger.ts";
import { CheckpointingMode } from "../engine/api/checkpoint-config.ts";
import { FsStateBackend } from "../engine/state/backends.ts";
import { RestartStrategies } from "../engine/api/restart-strategies.ts";
import { Duration, Time } from "../engine/api/time.ts";
import { WatermarkStrategy } from "../engine/api/watermark-strategy.ts";
import { TumblingEventTimeWindows } from "../engine/api/windows.ts";
import { BinanceWebSocketSource } from "../engine/connectors/binance/source.ts";
import { TransactionalFileSink } from "../engine/connectors/sinks/transactional-file-sink.ts";

/**
 * DESIGN.md §1's job, line for line. Only the first line differs: the environment is handed
 * the world it runs in (a simulated exchange and disk, or the real ones).
 */
export async function seedConfigJob(world: Partial<World>, log?: Logger): Promise<JobExecutionResult> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 42, world, log });
  env.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE);
  const cp = env.getCheckpointConfig();
  cp.setMinPauseBetweenCheckpoints(500);
  cp.setCheckpointTimeout(600_000);
  cp.setMaxConcurrentCheckpoints(1);
  env.setStateBackend(new FsStateBackend("file:///tmp/flinch/checkpoints"));
  env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, Time.seconds(10)));

  env.fromSource(new BinanceWebSocketSource("btcusdt"),
                 WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(2)),
                 "Binance Trade Source")
     .keyBy((t) => t.symbol)
     .window(TumblingEventTimeWindows.of(Time.minutes(1)))
     .sum("quantity")
     .sinkTo(new TransactionalFileSink("file:///tmp/flinch/out"));

  return await env.execute("Binance Trade Processing");
}
