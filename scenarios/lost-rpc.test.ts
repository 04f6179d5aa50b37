import { describe, expect, it } from "vitest";
import { describeFault, parsePlan } from "../sim/faults/fault-plan.ts";
import { PROPERTIES } from "./checkers.ts";
import { runCase } from "./outcome.ts";
import { SCENARIOS } from "./spec.ts";
import { parseConfig } from "./swarm.ts";

/** One swarm run, which must pass every check, with its trace: the lines matching `keep`, without their timestamps. */
function run(config: string, faults: string, keep: RegExp) {
  const plan = parsePlan(faults);
  const r = runCase(SCENARIOS.swarm.spec, { engineSeed: 0, config: parseConfig(config), faults: plan }, { keepTrace: true });
  expect(r.outcome.kind, JSON.stringify(r.outcome)).toBe("passed");
  const result = r.run!.result;
  return {
    fired: r.run!.fired.map((f) => describeFault(f.fault)),
    restarts: result.restarts,
    failed: result.checkpoints.filter((c) => c.status === "failed").map((c) => `${c.id} ${c.failureReasonKey}`),
    story: result.trace.map((l) => l.replace(/^\d+ /, "").trim()).filter((l) => keep.test(l)),
    alignment: r.run!.checks.find((c) => c.property === PROPERTIES.alignment),
  };
}

describe("lost RPCs (lose@...): the protocol survives each, as Flink's does", () => {
  it("a trigger lost at one of two sources, two checkpoints allowed: the window task aligns checkpoint 3 on one channel until checkpoint 4's barrier overtakes it; 4 completes and subsumes 3", () => {
    const r = run("sourceParallelism=2,maxConcurrent=2", "lose@checkpoint.trigger#3[#1]", /^lost|^coordinator (complete|abort) cp=[34]\b/);
    expect(r.fired).toEqual(["lose@checkpoint.trigger#3[#1]"]);
    expect(r.story).toEqual(["lost checkpoint.trigger cp=3 to Source: Binance Trade Source#1", "coordinator complete cp=4", "coordinator abort cp=3 CHECKPOINT_SUBSUMED"]);
    expect(r.restarts).toBe(0);
    expect(r.alignment?.valid).toBe(true);
  });

  it("a trigger lost with one checkpoint allowed: it expires after the 10-minute timeout (the tape has ended by then: the next is the final one), one tolerable failure, no failover", () => {
    const r = run("sourceParallelism=2,tolerableFailures=1", "lose@checkpoint.trigger#3[#1]", /^lost|^coordinator (trigger|complete|abort) cp=[34]\b/);
    expect(r.story).toEqual(["coordinator trigger cp=3", "lost checkpoint.trigger cp=3 to Source: Binance Trade Source#1", "coordinator abort cp=3 CHECKPOINT_EXPIRED", "coordinator trigger cp=4 final", "coordinator complete cp=4"]);
    expect(r.failed).toEqual(["3 CHECKPOINT_EXPIRED"]);
    expect(r.restarts).toBe(0);
  });

  it("an abort notice lost too: the window task that missed it aligns the expired checkpoint on until the next one's barrier overtakes it", () => {
    const r = run("sourceParallelism=2,tolerableFailures=1", "lose@checkpoint.trigger#3[#1], lose@checkpoint.notify#3[FileSink#0]", /^lost|^coordinator (abort|complete) cp=[34]\b|^v1\.0 snapshot cp=4|^job FINISHED/);
    expect(r.story).toEqual([
      "lost checkpoint.trigger cp=3 to Source: Binance Trade Source#1",
      "coordinator abort cp=3 CHECKPOINT_EXPIRED",
      "lost abort notice cp=3 to Window(TumblingEventTimeWindows(60000), sum(quantity)) -> Sink: TransactionalFileSink#0",
      "v1.0 snapshot cp=4",
      "coordinator complete cp=4",
      "job FINISHED",
    ]);
    expect(r.alignment?.valid).toBe(true);
  });

  it("a stop's trigger lost at one source and its abort notice at the other: the stopped source reads on when the next checkpoint's trigger comes, as Flink's StreamTask drops its synchronous savepoint", () => {
    const r = run("backend=memory,rescale=10013:1,symbols=2:0", "lose@checkpoint.trigger#2, lose@checkpoint.notify#2[#0]*2", /^lost (checkpoint.trigger|abort notice) cp=2|^coordinator (abort|complete) cp=[23]\b|^job /);
    expect(r.story).toEqual([
      "lost checkpoint.trigger cp=2 to Source: Binance Trade Source#1",
      "coordinator abort cp=2 CHECKPOINT_EXPIRED",
      "lost abort notice cp=2 to Source: Binance Trade Source#0",
      "coordinator complete cp=3",
      "job FINISHED", // the tape ended during the 10 minutes the stop took to expire: no stop again
    ]);
  });

  it("an ack lost on the file backend: the checkpoint expires, the job fails over (no tolerable failures) to the one before, and its files go", () => {
    const r = run("backend=file", "lose@checkpoint.ack#3[Window]", /^lost|^coordinator (complete|abort) cp=[23]\b|^restore/);
    // Passed: the discard check reads the disk, and nothing of checkpoint 2 is left.
    expect(r.story).toEqual(["lost checkpoint.ack cp=2 from Window(TumblingEventTimeWindows(60000), sum(quantity)) -> Sink: TransactionalFileSink#1", "coordinator abort cp=2 CHECKPOINT_EXPIRED", "restore from cp=1", "coordinator complete cp=3"]);
    expect(r.restarts).toBe(1);
  });

  it("a completion notice lost to a sink: its pre-committed transaction commits on the next checkpoint's notice, once", () => {
    const r = run("", "lose@checkpoint.notify#5[FileSink#0]", /^lost|^coordinator complete cp=[56]$|sink\.commit 0-1-0-cp5/);
    expect(r.story).toEqual(["coordinator complete cp=5", "lost checkpoint.notify cp=5 to Window(TumblingEventTimeWindows(60000), sum(quantity)) -> Sink: TransactionalFileSink#0", "coordinator complete cp=6", "v1.0 sink.commit 0-1-0-cp5"]);
  });

  it("the notices tasks finish on are never lost: the final checkpoint's, and a stop-with-savepoint's", () => {
    // Every notice to every task from the first on, five in a row (more than the run sends after the stop).
    const r = run("rescale=60000:2", "lose@checkpoint.notify#1*200", /^lost checkpoint.notify|^job (stopped|FINISHED)|^coordinator complete (cp|savepoint)=/);
    const lost = r.story.filter((l) => l.startsWith("lost")).length;
    expect(lost).toBeGreaterThan(0);
    // The stop's savepoint and the final checkpoint notified every task: the job stopped, and later finished.
    expect(r.story.filter((l) => l.startsWith("job "))).toEqual([expect.stringMatching(/^job stopped with savepoint \d+$/), "job FINISHED"]);
  });
});
