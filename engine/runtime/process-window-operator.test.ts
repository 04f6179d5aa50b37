import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { ProcessWindowFunction, ValueStateDescriptor, type Collector, type ProcessWindowContext } from "../api/functions.ts";
import { Duration } from "../api/time.ts";
import { WatermarkStrategy } from "../api/watermark-strategy.ts";
import {
  assignerFromSpec, EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows, WindowAssignerError, type WindowAssigner,
} from "../api/windows.ts";
import { ListSource } from "../connectors/collection/list-source.ts";
import { CollectSink, CollectStore } from "../connectors/sinks/collect-sink.ts";
import { JobGraphValidationError } from "./validate.ts";
import { EmbeddedKVStateBackend } from "../state/kv/kv-state-backend.ts";
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";

interface Ev {
  k: string;
  t: number;
  v: number;
}
const quiet = { warn() {}, info() {} };

/** Lists every window's elements as "key [start,end) v1,v2,...", sorted. */
class ListWindow extends ProcessWindowFunction<Ev, string, string> {
  process(key: string, ctx: ProcessWindowContext, elements: Iterable<Ev>, out: Collector<string>): void {
    const vs = [...elements].map((e) => e.v).sort((a, b) => a - b);
    out.collect(`${key} [${ctx.window().start},${ctx.window().end}) ${vs.join(",")}`);
  }
}

function run(evs: Ev[][], assigner: WindowAssigner, p = 2, kv = false): string[] {
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 11, log: quiet });
  env.setParallelism(p);
  const dir = kv ? fs.mkdtempSync(path.join(os.tmpdir(), "flinch-pw-")) : undefined;
  if (dir) env.setStateBackend(new EmbeddedKVStateBackend({ localDir: dir }));
  const store = new CollectStore<string>();
  env
    .fromSource(new ListSource(evs, (e) => e.t), WatermarkStrategy.forBoundedOutOfOrderness<Ev>(Duration.ofMillis(50)), "list")
    .keyBy((e) => e.k)
    .window(assigner)
    .process(new ListWindow())
    .sinkTo(new CollectSink(store));
  const r = env.executeSync("windows");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(r.status, r.failureReason).toBe("FINISHED");
  return [...store.committed].sort();
}

describe("SlidingEventTimeWindows", () => {
  it("puts each record into size/slide windows [start, start + size), start ≡ offset (mod slide)", () => {
    const evs = [{ k: "a", t: 7, v: 7 }, { k: "a", t: 12, v: 12 }, { k: "a", t: -3, v: -3 }];
    expect(run([evs], SlidingEventTimeWindows.of(10, 5))).toEqual(
      ["a [-10,0) -3", "a [-5,5) -3", "a [0,10) 7", "a [10,20) 12", "a [5,15) 7,12"].sort(),
    );
    expect(run([evs], SlidingEventTimeWindows.of(10, 5, 2))).toEqual(["a [-8,2) -3", "a [-3,7) -3", "a [2,12) 7", "a [7,17) 7,12", "a [12,22) 12"].sort());
  });

  it("validates its arguments as Flink does", () => {
    expect(() => SlidingEventTimeWindows.of(10, 0)).toThrow(/slide must be a positive/);
    expect(() => SlidingEventTimeWindows.of(10, 5, 5)).toThrow(/\|offset\| \(5\) must be a whole number smaller than slide/);
  });
});

describe("EventTimeSessionWindows", () => {
  it("merges sessions that overlap or touch, whatever the arrival order, on heap and kv state", () => {
    const evs = [
      { k: "a", t: 0, v: 1 }, { k: "a", t: 3, v: 2 }, { k: "a", t: 20, v: 3 }, { k: "a", t: 24, v: 4 },
      // b: [0,5) and [10,15) are apart until 5 arrives late and bridges them: [0,15)
      { k: "b", t: 0, v: 1 }, { k: "b", t: 10, v: 2 }, { k: "b", t: 5, v: 3 },
      { k: "c", t: 100, v: 9 },
    ];
    const expected = ["a [0,8) 1,2", "a [20,29) 3,4", "b [0,15) 1,2,3", "c [100,105) 9"];
    expect(run([evs], EventTimeSessionWindows.withGap(5))).toEqual(expected);
    expect(run([evs.slice(0, 4), evs.slice(4)], EventTimeSessionWindows.withGap(5), 3, true)).toEqual(expected);
  });

  it("pre-aggregates across merges with reduce and a window function", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 5, log: quiet });
    const store = new CollectStore<string>();
    const evs = [{ k: "x", t: 0, v: 1 }, { k: "x", t: 10, v: 10 }, { k: "x", t: 5, v: 100 }, { k: "x", t: 40, v: 1000 }];
    env
      .fromSource(new ListSource([evs], (e) => e.t), WatermarkStrategy.forBoundedOutOfOrderness<Ev>(Duration.ofMillis(20)), "list")
      .keyBy((e) => e.k)
      .window(EventTimeSessionWindows.withGap(5))
      .reduce((a, b) => ({ ...a, v: a.v + b.v }), {
        apply: (key: string, w, input: Iterable<Ev>, out: Collector<string>) => {
          for (const e of input) out.collect(`${key} [${w.start},${w.end}) ${e.v}`);
        },
      })
      .sinkTo(new CollectSink(store));
    expect(env.executeSync("sessions").status).toBe("FINISHED");
    expect([...store.committed].sort()).toEqual(["x [0,15) 111", "x [40,45) 1000"]);
  });
});

describe("ProcessWindowFunction state", () => {
  /** Per-window state counts fires of this window (always 1, then cleared); global state counts the key's windows. */
  class Stateful extends ProcessWindowFunction<Ev, string, string> {
    process(key: string, ctx: ProcessWindowContext, elements: Iterable<Ev>, out: Collector<string>): void {
      const mine = ctx.windowState().getState(new ValueStateDescriptor<number>("fires", 0));
      const all = ctx.globalState().getState(new ValueStateDescriptor<number>("windows", 0));
      mine.update(mine.value()! + 1);
      all.update(all.value()! + 1);
      out.collect(`${key}@${ctx.window().start} n=${[...elements].length} fires=${mine.value()} windows=${all.value()}`);
    }
    override clear(ctx: ProcessWindowContext): void {
      ctx.windowState().getState(new ValueStateDescriptor<number>("fires", 0)).clear();
    }
  }

  it("keeps per-window state apart per window and global state across windows, per key", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 2, log: quiet });
    env.setParallelism(2);
    const store = new CollectStore<string>();
    const evs: Ev[] = [];
    for (let t = 0; t < 40; t += 3) for (const k of ["p", "q"]) evs.push({ k, t, v: t });
    env
      .fromSource(new ListSource([evs], (e) => e.t), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
      .keyBy((e) => e.k)
      .window(SlidingEventTimeWindows.of(20, 10))
      .process(new Stateful())
      .sinkTo(new CollectSink(store));
    expect(env.executeSync("pwf").status).toBe("FINISHED");
    const p = store.committed.filter((l) => l.startsWith("p@")).sort((a, b) => Number(a.split(/[@ ]/)[1]) - Number(b.split(/[@ ]/)[1]));
    expect(p).toEqual(["p@-10 n=4 fires=1 windows=1", "p@0 n=7 fires=1 windows=2", "p@10 n=6 fires=1 windows=3", "p@20 n=7 fires=1 windows=4", "p@30 n=4 fires=1 windows=5"]);
    expect(store.committed.filter((l) => l.startsWith("q@"))).toHaveLength(5);
  });

  it("refuses per-window state on merging windows, as Flink does", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 2, log: quiet });
    env.fromSource(new ListSource([[{ k: "a", t: 1, v: 1 }]], (e) => e.t), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
      .keyBy((e) => e.k).window(EventTimeSessionWindows.withGap(5)).process(new Stateful()).sinkTo(new CollectSink(new CollectStore<string>()));
    const r = env.executeSync("merging-state");
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/per-window state is not supported with merging \(session\) windows/);
  });
});

describe("window assigners the engine does not run are refused, never run as tumbling", () => {
  const build = (assigner: unknown) => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1, log: quiet });
    env.fromSource(new ListSource([[{ k: "a", t: 1, v: 1 }]], (e) => e.t), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
      .keyBy((e) => e.k).window(assigner as WindowAssigner).sum("v").sinkTo(new CollectSink(new CollectStore()));
    return env;
  };

  it("at validation, with the kinds it does run", () => {
    expect(() => build({ kind: "global" }).executeSync("x")).toThrow(JobGraphValidationError);
    expect(() => build({ kind: "global" }).executeSync("x")).toThrow(/window assigner "global" is not supported; the engine runs tumbling-event-time, sliding-event-time, event-time-session/);
    // A sliding assigner written by hand without its slide: refused, not run as a tumbling window of `size`.
    expect(() => build({ kind: "sliding-event-time", size: 60_000, offset: 0 }).executeSync("x")).toThrow(/window\.slide: expected a number/);
    expect(build(TumblingEventTimeWindows.of(10)).validate().errors).toEqual([]);
  });

  it("from a spec: assignerFromSpec names the field, with exit code 2", () => {
    expect(assignerFromSpec({ kind: "sliding-event-time", size: 60_000, slide: 10_000 })).toEqual({ kind: "sliding-event-time", size: 60_000, slide: 10_000, offset: 0 });
    expect(assignerFromSpec({ kind: "event-time-session", gap: 5 })).toEqual({ kind: "event-time-session", gap: 5 });
    let err: unknown;
    try {
      assignerFromSpec({ kind: "processing-time-tumbling", size: 5 }, "job.window");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WindowAssignerError);
    expect((err as WindowAssignerError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/^job\.window\.kind: window assigner "processing-time-tumbling" is not supported/);
  });
});

describe("composite keys through windows", () => {
  it("sum by a tuple key on tumbling (fast path) and sliding windows: results carry the tuple", () => {
    const evs: Ev[] = Array.from({ length: 20 }, (_x, i) => ({ k: i % 2 ? "a" : "b", t: i * 10, v: i }));
    for (const assigner of [TumblingEventTimeWindows.of(100), SlidingEventTimeWindows.of(100, 100)]) {
      const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 8, log: quiet });
      env.setParallelism(3);
      const store = new CollectStore<{ key: unknown; start: number; sum: bigint | number; count: number }>();
      env
        .fromSource(new ListSource([evs], (e) => e.t), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list")
        .keyBy((e) => [e.k, e.v % 3 === 0])
        .window(assigner)
        .sum("v")
        .sinkTo(new CollectSink(store));
      expect(env.executeSync("tuple-keys").status).toBe("FINISHED");
      const expected = new Map<string, number>();
      for (const e of evs) {
        const id = JSON.stringify([[e.k, e.v % 3 === 0], e.t - (e.t % 100)]);
        expected.set(id, (expected.get(id) ?? 0) + e.v);
      }
      expect(new Map(store.committed.map((r) => [JSON.stringify([r.key, r.start]), r.sum]))).toEqual(expected);
    }
  });
});
