import { StreamExecutionEnvironment } from "../engine/api/environment.ts";
import { CheckpointingMode } from "../engine/api/checkpoint-config.ts";
import { Duration, Time } from "../engine/api/time.ts";
import { WatermarkStrategy } from "../engine/api/watermark-strategy.ts";
import { TumblingEventTimeWindows } from "../engine/api/windows.ts";
import { BinanceWebSocketSource } from "../engine/connectors/binance/source.ts";
import { CollectSink, CollectStore } from "../engine/connectors/sinks/collect-sink.ts";
import type { WindowSum } from "../engine/api/datastream.ts";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage } from "../engine/state/checkpoint-storage.ts";
import { EmbeddedKVStateBackend } from "../engine/state/kv/kv-state-backend.ts";
import { SimulatedTradeFeed } from "../sim/binance/sim-feed.ts";
import type { Tape } from "../sim/binance/tape.ts";
import { generateTape } from "../sim/binance/generator.ts";

/** The bench tape: 4 symbols, 1 hour, at a busy market's rate (about 1.05 M trades at 73 a second per symbol). */
export function benchTape(ratePerSec = 73): Tape {
  return generateTape({ seed: "bench", symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"], durationMs: 3_600_000, ratePerSec });
}

/** The seed job's pipeline over a tape, timed; returns trades per second of wall time. */
export function seedJobThroughput(tape: Tape, parallelism: number, checkpointMs: number | undefined, backend: "memory" | "file" | "kv" = "memory", oracle?: HandSums): { tradesPerSec: number; windows: number; checkpoints: number } {
  const feed = new SimulatedTradeFeed(tape);
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 42, world: { feed, startTime: feed.startTime() }, log: { warn() {}, info() {} } });
  env.setParallelism(parallelism);
  const dir = backend === "memory" ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "flinch-bench-"));
  if (checkpointMs !== undefined) {
    env.enableCheckpointing(checkpointMs, CheckpointingMode.EXACTLY_ONCE);
    // memory: JobManager storage; file and kv: checkpoint files on the real disk, with fsync.
    env.getCheckpointConfig().setCheckpointStorage(dir ? new FileSystemCheckpointStorage(path.join(dir, "checkpoints")) : new JobManagerCheckpointStorage());
  }
  if (backend === "kv") env.setStateBackend(new EmbeddedKVStateBackend({ localDir: dir }));
  const store = new CollectStore<WindowSum>();
  env
    .fromSource(new BinanceWebSocketSource(...tape.symbols), WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(2)), "Binance Trade Source")
    .keyBy((t) => t.symbol)
    .window(TumblingEventTimeWindows.of(Time.minutes(1)))
    .sum("quantity")
    .sinkTo(new CollectSink(store));
  const t0 = performance.now();
  const r = env.executeSync("bench");
  const ms = performance.now() - t0;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== "FINISHED") throw new Error(`bench job ended ${r.status}: ${r.failureReason}`);
  if (oracle) assertEqualsOracle(store.committed, oracle, `parallelism ${parallelism}, checkpoints ${checkpointMs ?? "off"}, ${backend}`);
  return { tradesPerSec: (tape.stats.trades / ms) * 1000, windows: store.committed.length, checkpoints: r.checkpoints.length };
}

/** Window sums by `symbol|start`, as the hand loop computes them. */
export type HandSums = Map<string, { q: bigint; n: number }>;

/** A figure counts only if the job committed exactly the hand loop's windows: same keys, sums and counts. */
export function assertEqualsOracle(committed: readonly WindowSum[], oracle: HandSums, what: string): void {
  if (committed.length !== oracle.size) throw new Error(`bench (${what}): ${committed.length} windows committed, oracle has ${oracle.size}`);
  for (const w of committed) {
    const o = oracle.get(`${String(w.key)}|${w.start}`);
    if (!o || o.q !== w.sum || o.n !== w.count) throw new Error(`bench (${what}): window ${String(w.key)}@${w.start} is ${w.sum}/${w.count}, oracle ${o?.q}/${o?.n}`);
  }
}

/** The same exact sums by hand: one loop, one map. The engine's cost is measured against this. */
export function handLoopThroughput(tape: Tape, windowMs = 60_000): { tradesPerSec: number; windows: number; sums: HandSums } {
  const t0 = performance.now();
  const sums = new Map<string, { q: bigint; n: number }>();
  for (const [symbol, trades] of tape.bySymbol) {
    for (let i = 0; i < trades.length; i++) {
      const t = trades[i];
      const start = t.time - (t.time % windowMs);
      const k = `${symbol}|${start}`;
      const w = sums.get(k);
      if (w) {
        w.q += t.quantity;
        w.n++;
      } else sums.set(k, { q: t.quantity, n: 1 });
    }
  }
  const ms = performance.now() - t0;
  return { tradesPerSec: (tape.stats.trades / ms) * 1000, windows: sums.size, sums };
}
