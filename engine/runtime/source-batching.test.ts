import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { WatermarkStrategy } from "../api/watermark-strategy.ts";
import { ListSource } from "../connectors/collection/list-source.ts";
import { CollectSink, CollectStore } from "../connectors/sinks/collect-sink.ts";
import type { ExecutionOptions } from "./job-spec.ts";

/** Arrival = event time: a quiet start, two bursts, a long silence, then two close arrivals. */
const ARRIVALS = [0, 10, 30, 150, 160, 1_000, 1_005];

/** The source steps that emitted, as "time:n", read from the kept trace. */
function emits(execution: Partial<ExecutionOptions> = {}): { steps: string[]; out: number[] } {
  const e = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1, keepTrace: true, execution, log: { warn() {}, info() {} } });
  e.setParallelism(1);
  const store = new CollectStore<number>();
  e.fromSource(new ListSource([ARRIVALS], (t) => t, (t) => t), WatermarkStrategy.forMonotonousTimestamps<number>(), "list").sinkTo(new CollectSink(store));
  const r = e.executeSync("batching");
  expect(r.status).toBe("FINISHED");
  const steps = r.trace.flatMap((l) => {
    const m = /^(\d+) v\d+\.0 emit n=(\d+)\n$/.exec(l);
    return m ? [`${m[1]}:${m[2]}`] : [];
  });
  return { steps, out: [...store.committed] };
}

describe("source polling in virtual time", () => {
  it("takes everything that arrived since the last tick, on a 100 ms grid, and wakes at once after a silence", () => {
    const { steps, out } = emits();
    // 0: the first arrival wakes it; 100: 10 and 30; 200: 150 and 160; 1000: the silence ends at
    // the arrival itself; 1100: 1005 — never before an arrival, never more than one tick late.
    expect(steps).toEqual(["0:1", "100:2", "200:2", "1000:1", "1100:1"]);
    expect(out).toEqual(ARRIVALS);
  });

  it("a full batch does not wait for the tick: batchSize bounds a step, and at 1 every record is a step of its own", () => {
    expect(emits({ batchSize: 2 }).steps).toEqual(["0:1", "100:2", "150:1", "200:1", "1000:1", "1100:1"]);
    expect(emits({ batchSize: 1 }).steps).toEqual(ARRIVALS.map((t) => `${t}:1`));
  });

  it("a poll interval of 0 takes each arrival at its own instant", () => {
    expect(emits({ sourcePollInterval: 0 }).steps).toEqual(ARRIVALS.map((t) => `${t}:1`));
  });
});
