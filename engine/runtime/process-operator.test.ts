import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { KeyedProcessFunction, MapStateDescriptor, ProcessFunction, ValueStateDescriptor, type Collector, type KeyedProcessContext, type OnTimerContext, type ProcessContext } from "../api/functions.ts";
import { RestartStrategies } from "../api/restart-strategies.ts";
import { WatermarkStrategy } from "../api/watermark-strategy.ts";
import { OutputTag } from "../api/windows.ts";
import { ListSource } from "../connectors/collection/list-source.ts";
import { CollectSink, CollectStore } from "../connectors/sinks/collect-sink.ts";
import { JobManagerCheckpointStorage } from "../state/checkpoint-storage.ts";
import type { MapState } from "../state/keyed-state.ts";
import { FailingSource, type Record2 } from "../itcase/failing-source.ts";
import { EmbeddedKVStateBackend } from "../state/kv/kv-state-backend.ts";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const quiet = { warn() {}, info() {} };
const N = 600;
/** Timers fire this long after their bucket ends, so some are pending at every checkpoint. */
const LAG = 100;
const KEYS = 5;

/**
 * Sums per key into 50 ms buckets (MapState), each emitted by an event-time timer LAG ms after
 * the bucket ends; a processing-time timer per key due after the failure; a timer deleted
 * before it is due.
 */
class Buckets extends KeyedProcessFunction<unknown[], Record2, string> {
  private sums!: MapState<number, number>;
  override open(): void {
    this.sums = this.getRuntimeContext().getMapState(new MapStateDescriptor<number, number>("sums"));
  }
  processElement(v: Record2, ctx: KeyedProcessContext<unknown[]>, _out: Collector<string>): void {
    const bucket = Math.floor(ctx.timestamp() / 50) * 50;
    this.sums.put(bucket, (this.sums.get(bucket) ?? 0) + v[1].value);
    const ts = ctx.timerService();
    ts.registerEventTimeTimer(bucket + 49 + LAG);
    if (v[1].value === 0) {
      ts.registerEventTimeTimer(1_000_000);
      ts.deleteEventTimeTimer(1_000_000);
      // Deleting a timer that was never registered must not swallow a later registration.
      ts.deleteEventTimeTimer(2_000_000 + 49 + LAG);
      ts.registerEventTimeTimer(2_000_000 + 49 + LAG);
      this.sums.put(2_000_000, 7);
    }
    // Registered well before the source fails (at element N/2) and due well after it: the
    // checkpoint restored from holds it pending, so only a restored timer can fire it.
    if (v[1].value === N / 2 - 100) ts.registerProcessingTimeTimer(ts.currentProcessingTime() + 1_000);
  }
  override onTimer(t: number, ctx: OnTimerContext<unknown[]>, out: Collector<string>): void {
    const k = ctx.getCurrentKey()[0];
    if (ctx.timeDomain() === "PROCESSING_TIME") return out.collect(`${k} proc`);
    const bucket = t - 49 - LAG;
    out.collect(`${k} ${bucket} ${this.sums.get(bucket)}`);
    this.sums.remove(bucket);
  }
}

describe.each(["heap", "kv"] as const)("KeyedProcessFunction on %s state", (backend) => {
  it("fires event-time and processing-time timers exactly once across a failure and restore; deleted timers never fire", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: "timers", log: quiet });
    const dir = backend === "kv" ? fs.mkdtempSync(path.join(os.tmpdir(), "flinch-kpf-")) : undefined;
    if (dir) env.setStateBackend(new EmbeddedKVStateBackend({ localDir: dir }));
    env.setParallelism(3);
    env.enableCheckpointing(100);
    env.getCheckpointConfig().setCheckpointStorage(new JobManagerCheckpointStorage());
    env.configureRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
    const store = new CollectStore<string>();
    const before = FailingSource.failures;
    env.addSource(new FailingSource(KEYS, N), "FailingSource").rebalance().keyBy(0).process(new Buckets()).sinkTo(new CollectSink(store));
    const r = env.executeSync("timers");
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.failureReason).toBe("FINISHED");
    expect(FailingSource.failures - before).toBe(1);
    expect(r.restarts).toBe(1);
    const expected: string[] = [];
    for (let k = 0; k < KEYS; k++) {
      expected.push(`${k} proc`, `${k} 2000000 7`);
      for (let b = 0; b < N; b += 50) {
        let s = 0;
        for (let i = b; i < b + 50; i++) s += i;
        expected.push(`${k} ${b} ${s}`);
      }
    }
    expect([...store.committed].sort()).toEqual(expected.sort());
  });
});

describe("rebalance, union and ProcessFunction", () => {
  it("a union of two sources, rebalanced over three subtasks: every record once, every subtask used, side outputs", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 4, log: quiet });
    env.setParallelism(1);
    const wm = WatermarkStrategy.forMonotonousTimestamps<number>();
    const a = env.fromSource(new ListSource([Array.from({ length: 30 }, (_x, i) => i)], (x) => x), wm, "a");
    const b = env.fromSource(new ListSource([Array.from({ length: 30 }, (_x, i) => 100 + i)], (x) => x), wm, "b");
    const odd = new OutputTag<number>("odd");
    const main = new CollectStore<string>();
    const side = new CollectStore<number>();
    const processed = a
      .union(b)
      .rebalance()
      .process(
        new (class extends ProcessFunction<number, string> {
          processElement(v: number, ctx: ProcessContext, out: Collector<string>): void {
            if (v % 2) ctx.output(odd, v);
            out.collect(`${this.getRuntimeContext().getIndexOfThisSubtask()}:${v}@${ctx.timestamp()}`);
          }
        })(),
      )
      .setParallelism(3);
    processed.sinkTo(new CollectSink(main));
    processed.getSideOutput(odd).sinkTo(new CollectSink(side));
    const r = env.executeSync("union");
    expect(r.status, r.failureReason).toBe("FINISHED");
    const values = main.committed.map((l) => Number(l.split(":")[1].split("@")[0])).sort((x, y) => x - y);
    expect(values).toEqual([...Array.from({ length: 30 }, (_x, i) => i), ...Array.from({ length: 30 }, (_x, i) => 100 + i)]);
    expect(main.committed.every((l) => l.endsWith(`@${l.split(":")[1].split("@")[0]}`))).toBe(true);
    expect(new Set(main.committed.map((l) => l.split(":")[0]))).toEqual(new Set(["0", "1", "2"]));
    expect([...side.committed].sort((x, y) => x - y)).toEqual(values.filter((v) => v % 2));
    expect(r.plan.some((l) => /REBALANCE from #0, REBALANCE from #1/.test(l))).toBe(true);
  });

  it("refuses timers on a non-keyed stream, saying how to get them", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 4, log: quiet });
    env.fromSource(new ListSource([[1]], (x) => x), WatermarkStrategy.forMonotonousTimestamps<number>(), "a")
      .process(new (class extends ProcessFunction<number, number> {
        processElement(_v: number, ctx: ProcessContext): void {
          ctx.timerService().registerEventTimeTimer(5);
        }
      })())
      .sinkTo(new CollectSink(new CollectStore<number>()));
    const r = env.executeSync("no-timers");
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/setting timers is only supported on keyed streams \(use keyBy\(\.\.\.\)\.process\(KeyedProcessFunction\)\)/);
  });
});

describe("a ProcessFunction on a keyed stream", () => {
  it("gets keyed state and timers, as Flink's keyed ProcessFunction does", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 9, log: quiet });
    env.setParallelism(2);
    const store = new CollectStore<string>();
    const xs = Array.from({ length: 30 }, (_x, i) => i);
    env
      .fromSource(new ListSource([xs], (x) => x), WatermarkStrategy.forMonotonousTimestamps<number>(), "xs")
      .keyBy((x) => (x % 3 === 0 ? "fizz" : "other"))
      .process(
        new (class extends ProcessFunction<number, string> {
          processElement(x: number, ctx: ProcessContext): void {
            const n = this.getRuntimeContext().getState(new ValueStateDescriptor<number>("n", 0));
            n.update(n.value()! + 1);
            ctx.timerService().registerEventTimeTimer(1_000);
            void x;
          }
          override onTimer(t: number, _ctx: OnTimerContext<unknown>, out: Collector<string>): void {
            out.collect(`${t}:${this.getRuntimeContext().getState(new ValueStateDescriptor<number>("n", 0)).value()}`);
          }
        })(),
      )
      .sinkTo(new CollectSink(store));
    expect(env.executeSync("keyed-pf").status).toBe("FINISHED");
    expect([...store.committed].sort()).toEqual(["1000:10", "1000:20"]);
  });
});
