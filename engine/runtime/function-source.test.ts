import { describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { RichParallelSourceFunction, RichSourceFunction, SOURCE_FINISHED, type SourceContext } from "../api/functions.ts";
import { CollectSink, CollectStore } from "../connectors/sinks/collect-sink.ts";
import { JobGraphValidationError } from "./validate.ts";

const quiet = { warn() {}, info() {} };

class Countdown extends RichSourceFunction<number> {
  private n = 3;
  run(ctx: SourceContext<number>): number {
    if (this.n === 0) return SOURCE_FINISHED;
    ctx.collectWithTimestamp(this.n--, 10);
    return 0;
  }
}

class PerSubtask extends RichParallelSourceFunction<string> {
  private i = 0;
  run(ctx: SourceContext<string>): number {
    if (this.i === 2) return SOURCE_FINISHED;
    const rc = this.getRuntimeContext();
    ctx.collect(`${rc.getIndexOfThisSubtask()}/${rc.getNumberOfParallelSubtasks()}#${this.i++}@${rc.getAttemptNumber()}`);
    return 1;
  }
}

describe("SourceFunction", () => {
  it("a non-parallel one runs as one subtask; asking for more is refused at validation", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1, log: quiet });
    env.setParallelism(4);
    const store = new CollectStore<number>();
    env.addSource(new Countdown(), "countdown").sinkTo(new CollectSink(store));
    expect(env.executeSync("one").status).toBe("FINISHED");
    expect([...store.committed].sort()).toEqual([1, 2, 3]);

    const bad = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1, log: quiet });
    bad.addSource(new Countdown(), "countdown").setParallelism(2).sinkTo(new CollectSink(new CollectStore<number>()));
    expect(() => bad.executeSync("two")).toThrow(JobGraphValidationError);
    expect(() => bad.executeSync("two")).toThrow(/the parallelism of a non-parallel SourceFunction must be 1 \(got 2\); extend RichParallelSourceFunction/);
  });

  it("a parallel one runs one copy per subtask, each seeing its own runtime context", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1, log: quiet });
    env.setParallelism(3);
    const store = new CollectStore<string>();
    env.addSource(new PerSubtask(), "parallel").sinkTo(new CollectSink(store));
    expect(env.executeSync("par").status).toBe("FINISHED");
    expect([...store.committed].sort()).toEqual(["0/3#0@0", "0/3#1@0", "1/3#0@0", "1/3#1@0", "2/3#0@0", "2/3#1@0"]);
  });
});
