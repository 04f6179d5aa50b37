import { describe, expect } from "vitest";
import { test } from "@fast-check/vitest";
import fc from "fast-check";
import { StreamExecutionEnvironment } from "../../engine/api/environment.ts";
import { WatermarkStrategy } from "../../engine/api/watermark-strategy.ts";
import { TumblingEventTimeWindows } from "../../engine/api/windows.ts";
import { Duration, Time } from "../../engine/api/time.ts";
import { CheckpointingMode } from "../../engine/api/checkpoint-config.ts";
import type { WindowSum } from "../../engine/api/datastream.ts";
import { BinanceWebSocketSource } from "../../engine/connectors/binance/source.ts";
import { FEED_ENDED } from "../../engine/connectors/binance/feed.ts";
import { CollectSink, CollectStore } from "../../engine/connectors/sinks/collect-sink.ts";
import { Kernel } from "../../engine/kernel/kernel.ts";
import { Rng } from "../../engine/kernel/rng.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import { windowOracle } from "../../scenarios/oracle.ts";
import { generateTape } from "./generator.ts";
import { SimulatedTradeFeed } from "./sim-feed.ts";
import { drawFaultPlan, NO_FAULTS, type FeedFaultPlan } from "./toxics.ts";
import { feedFaultPlan } from "./toxics-arbitrary.ts";
import type { Tape } from "./tape.ts";
import { InjectedCrash, type FaultInjector } from "../../engine/checkpoint/faults.ts";

function drain(feed: SimulatedTradeFeed, symbol: string, afterId?: number): { trades: Trade[]; end: number } {
  const sub = feed.subscribe(symbol, new Kernel("k", feed.startTime()), afterId);
  let now = feed.startTime();
  const out: Trade[] = [];
  for (let steps = 0; steps < 1_000_000; steps++) {
    const r = sub.poll(now, 64, out);
    if (r === FEED_ENDED) break;
    if (r === Infinity) throw new Error(`subscription stuck at ${now} after ${out.length} trades`);
    now = Math.max(now, r);
  }
  sub.close();
  return { trades: out, end: now };
}

/** Crashes the source task once, at its first `task.process` at or after `crashAfterMs` into the run. */
function crashOnce(start: number, crashAfterMs: number | undefined): FaultInjector | undefined {
  if (crashAfterMs === undefined) return undefined;
  let done = false;
  return {
    check(site) {
      if (!done && site.point === "task.process" && site.task.startsWith("Source") && site.time >= start + crashAfterMs) {
        done = true;
        throw new InjectedCrash(site, 0);
      }
    },
  };
}

function runJob(tape: Tape, feed: SimulatedTradeFeed, seed: number, crashAfterMs?: number) {
  const faults = crashOnce(feed.startTime(), crashAfterMs);
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed, world: { feed, startTime: feed.startTime(), faults } });
  env.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE);
  const store = new CollectStore<WindowSum>();
  env.fromSource(new BinanceWebSocketSource(...tape.symbols), WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(2)), "Binance Trade Source")
    .keyBy((t) => t.symbol).window(TumblingEventTimeWindows.of(Time.minutes(1))).sum("quantity").sinkTo(new CollectSink(store));
  const r = env.executeSync("sim-feed property");
  const got = store.committed.map((w) => `${w.key} ${w.start} ${w.sum} ${w.count}`).sort();
  const exp = windowOracle(tape, 60_000).map((w) => `${w.symbol} ${w.start} ${w.quantity} ${w.count}`).sort();
  return { r, got, exp, crashed: faults !== undefined };
}

const tapes = new Map<string, Tape>();
function tapeFor(seed: number): Tape {
  const k = `t${seed % 4}`;
  let t = tapes.get(k);
  if (!t) tapes.set(k, (t = generateTape({ seed: k, symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 4 * 60_000, ratePerSec: 8 })));
  return t;
}

describe("SimulatedTradeFeed under toxics", () => {
  test.prop([feedFaultPlan(), fc.nat(), fc.option(fc.nat({ max: 600 }), { nil: undefined })], { numRuns: 60 })(
    "a subscription yields exactly the tape after afterId: every id once, in order",
    (plan, seed, resumeAt) => {
      const tape = tapeFor(seed);
      const all = tape.bySymbol.get("BTCUSDT")!;
      const afterId = resumeAt === undefined ? undefined : all[Math.min(resumeAt, all.length - 1)].id;
      const feed = new SimulatedTradeFeed(tape, { plan, seed: `s${seed}` });
      const { trades } = drain(feed, "BTCUSDT", afterId);
      const expected = all.filter((t) => afterId === undefined || t.id > afterId);
      expect(trades.map((t) => t.id)).toEqual(expected.map((t) => t.id));
      expect(trades.every((t, i) => t === expected[i])).toBe(true);
    },
  );

  test.prop([feedFaultPlan(), fc.integer({ min: 1, max: 1_000 }), fc.option(fc.integer({ min: 0, max: 230_000 }), { nil: undefined })], { numRuns: 16 })(
    "the job's committed windows equal the oracle under any toxics, with or without a source crash and restore",
    (plan, seed, crashAfterMs) => {
      const tape = tapeFor(seed);
      const feed = new SimulatedTradeFeed(tape, { plan });
      const { r, got, exp } = runJob(tape, feed, seed, crashAfterMs);
      expect(r.status).toBe("FINISHED");
      if (crashAfterMs !== undefined) expect(r.restarts).toBe(1);
      expect(got).toEqual(exp);
    },
  );

  test("the same plan and seed give the same trace", () => {
    const tape = tapeFor(1);
    const plan = drawFaultPlan(new Rng("plan"), { maxConnectionProbability: 0.02 });
    const a = runJob(tape, new SimulatedTradeFeed(tape, { plan }), 7).r.traceHash;
    const b = runJob(tape, new SimulatedTradeFeed(tape, { plan }), 7).r.traceHash;
    expect(a).toBe(b);
  });

  test("heavy faults are actually exercised and recovered (counters)", () => {
    const tape = tapeFor(2);
    const plan: FeedFaultPlan = {
      toxics: [
        { kind: "duplicate", probability: 0.2 }, { kind: "reorder", probability: 0.2, window: 5 }, { kind: "drop", probability: 0.1 },
        { kind: "malformed", probability: 0.05 }, { kind: "disconnect", probability: 0.01 }, { kind: "stall", probability: 0.005, durationMs: 90_000 },
        { kind: "server-restart", probability: 0.005, downMs: 2_000 }, { kind: "latency", meanMs: 50, jitterMs: 100 },
        { kind: "rest-429", probability: 0.3, retryAfterMs: 1_000 }, { kind: "rest-5xx", probability: 0.2 }, { kind: "rest-timeout", probability: 0.1, ms: 5_000 },
      ],
    };
    const feed = new SimulatedTradeFeed(tape, { plan, seed: "heavy" });
    const { trades } = drain(feed, "ETHUSDT");
    expect(trades.map((t) => t.id)).toEqual(tape.bySymbol.get("ETHUSDT")!.map((t) => t.id));
    const s = feed.stats;
    for (const k of ["duplicates", "malformed", "disconnects", "stalls", "restRetryAfter", "restErrors", "backfilled"] as const) expect(s[k], k).toBeGreaterThan(0);
  });

  test("an empty plan still goes through the network model and loses nothing", () => {
    const tape = tapeFor(3);
    const feed = new SimulatedTradeFeed(tape, { plan: NO_FAULTS });
    expect(drain(feed, "BTCUSDT").trades.length).toBe(tape.bySymbol.get("BTCUSDT")!.length);
  });
});
