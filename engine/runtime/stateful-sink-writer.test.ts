import { expect, it } from "vitest";
import { StreamExecutionEnvironment } from "../api/environment.ts";
import { RestartStrategies } from "../api/restart-strategies.ts";
import type { Sink, SinkWriter } from "../api/sink.ts";
import { JobManagerCheckpointStorage } from "../state/checkpoint-storage.ts";
import { FailingSource, type Record2 } from "../itcase/failing-source.ts";

/** A Sink V2 writer with state (Flink's StatefulSinkWriter): it counts what it wrote, per subtask. */
class CountingSink implements Sink<Record2> {
  readonly sinkName = "counting";
  readonly transactional = false;
  /** Count each subtask held at each checkpoint, and what each restore handed back. */
  readonly snapshots: { cp: number; subtask: number; count: number }[] = [];
  readonly restored: { subtask: number; states: unknown[] }[] = [];
  createWriter(ctx: { subtaskIndex: number }): SinkWriter<Record2> {
    let count = 0;
    const sink = this;
    return {
      write: () => void count++,
      prepareCommit: () => [],
      commit: () => {},
      recover: () => {},
      snapshotState(cp) {
        sink.snapshots.push({ cp, subtask: ctx.subtaskIndex, count });
        return [count];
      },
      initializeState(states) {
        sink.restored.push({ subtask: ctx.subtaskIndex, states: [...states] });
        count = (states as number[]).reduce((a, b) => a + b, 0);
      },
      close() {},
    };
  }
}

it("a stateful sink writer's state rolls back with the job: its final count is every record exactly once", () => {
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: "writer-state", log: { warn() {}, info() {} } });
  env.setParallelism(2);
  env.enableCheckpointing(100);
  env.getCheckpointConfig().setCheckpointStorage(new JobManagerCheckpointStorage());
  env.configureRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  const sink = new CountingSink();
  const before = FailingSource.failures;
  env.addSource(new FailingSource(3, 200), "FailingSource").rebalance().sinkTo(sink);
  const r = env.executeSync("writer-state");
  expect(r.status, r.failureReason).toBe("FINISHED");
  expect(FailingSource.failures - before).toBe(1);
  expect(sink.restored.map((x) => x.subtask).sort()).toEqual([0, 1]);
  expect(sink.restored.every((x) => x.states.length === 1)).toBe(true);
  const last = Math.max(...sink.snapshots.map((s) => s.cp));
  const final = sink.snapshots.filter((s) => s.cp === last);
  expect(final.map((s) => s.count).reduce((a, b) => a + b, 0)).toBe(3 * 200);
});
