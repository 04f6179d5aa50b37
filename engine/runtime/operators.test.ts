import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { WatermarkStrategy } from "../api/watermark-strategy.ts";
import { TumblingEventTimeWindows } from "../api/windows.ts";
import { ListSource } from "../connectors/collection/list-source.ts";
import { CollectSink, CollectStore } from "../connectors/sinks/collect-sink.ts";

interface Ev {
  k: string;
  t: number;
  v: number;
}
const evs: Ev[] = Array.from({ length: 40 }, (_x, i) => ({ k: ["a", "b", "c"][i % 3], t: i * 5_000, v: i }));

function env(p = 2) {
  const e = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 3, log: { warn() {}, info() {} } });
  e.setParallelism(p);
  return e;
}
const source = (e: ReturnType<typeof env>) => e.fromSource(new ListSource([evs.slice(0, 20), evs.slice(20)], (x) => x.t), WatermarkStrategy.forMonotonousTimestamps<Ev>(), "list");

describe("DataStream operators", () => {
  it("map, filter and flatMap", () => {
    const e = env();
    const store = new CollectStore<string>();
    source(e)
      .filter((x) => x.v % 2 === 0)
      .map((x) => ({ ...x, v: x.v * 10 }))
      .flatMap<string>((x, out) => {
        out.collect(`${x.k}:${x.v}`);
        if (x.v === 0) out.collect("zero");
      })
      .sinkTo(new CollectSink(store));
    expect(e.executeSync("ops").status).toBe("FINISHED");
    expect([...store.committed].sort()).toEqual([...evs.filter((x) => x.v % 2 === 0).map((x) => `${x.k}:${x.v * 10}`), "zero"].sort());
  });

  it("reduce and aggregate per key and window", () => {
    const e = env(3);
    const red = new CollectStore<Ev>();
    const agg = new CollectStore<string>();
    const keyed = source(e).keyBy((x) => x.k);
    keyed.window(TumblingEventTimeWindows.of(60_000)).reduce((a, b) => ({ k: a.k, t: Math.max(a.t, b.t), v: a.v + b.v })).sinkTo(new CollectSink(red));
    keyed
      .window(TumblingEventTimeWindows.of(60_000))
      .aggregate(
        { createAccumulator: () => [] as number[], add: (x: Ev, acc: number[]) => [...acc, x.v], getResult: (acc) => Math.max(...acc), merge: (a, b) => [...a, ...b] },
        (key, w, max) => `${key}@${w.start}:max=${max}`,
      )
      .sinkTo(new CollectSink(agg));
    expect(e.executeSync("windows").status).toBe("FINISHED");
    const expected = new Map<string, number>();
    for (const x of evs) expected.set(`${x.k}@${x.t - (x.t % 60_000)}`, (expected.get(`${x.k}@${x.t - (x.t % 60_000)}`) ?? 0) + x.v);
    expect(new Map(red.committed.map((r) => [`${r.k}@${r.t - (r.t % 60_000)}`, r.v]))).toEqual(expected);
    expect(agg.committed).toHaveLength(expected.size);
    expect(agg.committed).toContain("b@60000:max=22");
  });
});
