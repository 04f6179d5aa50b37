import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { WatermarkStrategy } from "../api/watermark-strategy.ts";
import { OutputTag, TumblingEventTimeWindows } from "../api/windows.ts";
import { ListSource } from "../connectors/collection/list-source.ts";
import { CollectSink, CollectStore } from "../connectors/sinks/collect-sink.ts";
import { PrintSink } from "../connectors/sinks/print-sink.ts";
import { BinanceWebSocketSource } from "../connectors/binance/source.ts";
import type { Logger } from "../api/logger.ts";
import { JobGraphValidationError } from "./validate.ts";

interface Ev {
  k: string;
  t: number;
  v: bigint;
}
const quiet = (): Logger & { warnings: string[] } => {
  const warnings: string[] = [];
  return { warnings, warn: (m) => void warnings.push(m), info: () => {} };
};
const events: Ev[] = [0, 30_000, 61_000, 125_000].map((t, i) => ({ k: i % 2 ? "a" : "b", t, v: BigInt(i + 1) }));

describe("job validation", () => {
  it("warns that an event-time window on noWatermarks fires only at end of a bounded input — and then it does", () => {
    const log = quiet();
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ log });
    const store = new CollectStore<unknown>();
    env.fromSource(new ListSource([events], (e) => e.t), WatermarkStrategy.noWatermarks<Ev>(), "list")
      .keyBy((e) => e.k).window(TumblingEventTimeWindows.of(60_000)).sum("v").sinkTo(new CollectSink(store));
    const r = env.executeSync("nowm");
    expect(log.warnings.some((w) => /noWatermarks\(\): it fires only at the end of input/.test(w))).toBe(true);
    expect(r.warnings).toEqual(log.warnings);
    expect(store.committed).toHaveLength(4);
  });

  it("warns that on an unbounded source such a window never fires", () => {
    const log = quiet();
    const feed = { bounded: false, symbols: () => ["BTCUSDT"], subscribe: () => ({ poll: () => Infinity, close() {} }) };
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ log, world: { feed } });
    env.fromSource(new BinanceWebSocketSource("btcusdt"), WatermarkStrategy.noWatermarks(), "live")
      .keyBy((t) => t.symbol).window(TumblingEventTimeWindows.of(60_000)).sum("quantity").sinkTo(new CollectSink());
    const v = env.validate();
    expect(v.errors).toEqual([]);
    expect(v.warnings.join("\n")).toMatch(/on an unbounded source: it never fires and no result is ever emitted/);
    expect(v.warnings.join("\n")).toMatch(/commits on checkpoints, and checkpointing is disabled on an unbounded job/);
  });

  it("refuses jobs that cannot run, listing every reason", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ log: quiet() });
    env.enableCheckpointing(5);
    env.fromSource(new BinanceWebSocketSource(), WatermarkStrategy.forMonotonousTimestamps(), "no feed").map((t) => t);
    let err: unknown;
    try {
      env.executeSync("bad");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JobGraphValidationError);
    const msgs = (err as JobGraphValidationError).errors.join("\n");
    expect(msgs).toMatch(/No operators defined in streaming topology/);
    expect(msgs).toMatch(/Checkpoint interval cannot be less than 10 milliseconds/);
    expect(msgs).toMatch(/no symbols/);
    expect(msgs).toMatch(/no trade feed/);
  });

  it("warns about a non-transactional sink under EXACTLY_ONCE and an unread late side output", () => {
    const log = quiet();
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ log });
    env.enableCheckpointing(1_000);
    env.fromSource(new ListSource([events], (e) => e.t), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
      .keyBy((e) => e.k).window(TumblingEventTimeWindows.of(60_000)).sideOutputLateData(new OutputTag("late")).sum("v")
      .sinkTo(new PrintSink(undefined, () => {}));
    const w = env.validate().warnings.join("\n");
    expect(w).toMatch(/is not transactional: with EXACTLY_ONCE checkpointing/);
    expect(w).toMatch(/sideOutputLateData\("late"\) is set but nothing reads getSideOutput\("late"\)/);
  });

  it("names the field when sum() meets a record without it", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ log: quiet() });
    env.fromSource(new ListSource([[{ k: "a", t: 1 }]], (e) => e.t), WatermarkStrategy.forMonotonousTimestamps<{ k: string; t: number }>(), "list")
      .keyBy((e) => e.k).window(TumblingEventTimeWindows.of(60_000)).sum("v" as never).sinkTo(new CollectSink());
    const r = env.executeSync("nofield");
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/sum\("v"\): the record's "v" is missing, not a number or bigint/);
  });
});
