import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tradeToPayload } from "../../../engine/connectors/binance/codec.ts";
import { loadFixture } from "../fixtures.ts";
import type { Tape } from "../tape.ts";
import type { FeedFaultPlan } from "../toxics.ts";
import { ExchangeCore } from "./core.ts";
import type { EndOfTape, Pace } from "./exchange.ts";
import type { Session, SessionPort } from "./session.ts";
import { syntheticTape, unevenTape } from "./test-helpers.ts";

/**
 * The session's timing in virtual time (vitest's fake timers fake setTimeout, setImmediate
 * and Date.now together), so exact send times can be asserted: paced release, and the
 * latency toxic's seeded delay line. The real-socket versions are in pace-latency.test.ts.
 */
const START = 1_000_000;
beforeEach(() => {
  vi.useFakeTimers({ now: START });
});
const cores: ExchangeCore[] = [];
afterEach(() => {
  for (const c of cores.splice(0)) c.closeAll();
  vi.useRealTimers();
});

type Sent = { text: string; at: number };
const clock = () => Date.now(); // real-time: faked by vi.useFakeTimers in this file

/** Opens `path` on a fresh exchange with a port that records what is sent, and when. */
type Opts = { tape: Tape; pace?: Pace; plan?: FeedFaultPlan; seed?: string; endOfTape?: EndOfTape };
function session(o: Opts, path: string): Sent[] {
  return open(o, path).sent;
}

function open(o: Opts, path: string): { sent: Sent[]; session: Session } {
  const core = new ExchangeCore(o, clock);
  cores.push(core);
  const sent: Sent[] = [];
  const port: SessionPort = {
    send: (text) => void sent.push({ text, at: clock() }),
    bufferedAmount: () => 0,
    close: (code, reason) => void sent.push({ text: `<closed ${code} ${reason}>`, at: clock() }),
    terminate: () => void sent.push({ text: "<terminated>", at: clock() }),
  };
  const r = core.open(path, port);
  if (!r.ok) throw new Error(r.reason);
  return { sent, session: r.session };
}

const tradeOf = (text: string): { s: string; t: number } => {
  const m = JSON.parse(text);
  return m.stream ? m.data : m;
};
const BOTH = "/stream?streams=btcusdt@trade/ethusdt@trade";

describe("paced release (virtual time)", () => {
  it("at speed N each trade leaves exactly offset / N after the subscription, merged over streams in trade-time order", () => {
    const { tape, order } = unevenTape();
    const sent = session({ tape, pace: { speed: 5 } }, BOTH);
    vi.advanceTimersByTime(1_000);
    expect(sent.map((x) => { const t = tradeOf(x.text); return `${t.s} ${t.t} +${x.at - START}`; }))
      .toEqual(order.map((o) => `${o.symbol} ${o.id} +${o.offset / 5}`));
  });

  it("a pump that wakes late still releases every stream's due trades in trade-time order", () => {
    const { tape, order } = unevenTape();
    const sent = session({ tape, pace: { speed: 5 } }, BOTH);
    vi.setSystemTime(START + 10_000); // the clock jumps past the whole tape; no timer has run
    vi.advanceTimersByTime(1);
    expect(sent.map((x) => tradeOf(x.text).t)).toEqual(order.map((o) => o.id));
    expect(new Set(sent.map((x) => x.at)).size).toBe(1);
  });

  it("paces by the fixture's receive timestamps when it has them, not by trade time", () => {
    const { tape } = unevenTape();
    const trades = [...tape.bySymbol.get("BTCUSDT")!];
    const recvMs = [0, 50, 900, 906, 2_000, 2_400]; // E gaps are 500, 340, 360, ...; these differ
    const dir = mkdtempSync(join(tmpdir(), "flinch-recv-"));
    try {
      const file = join(dir, "btc.jsonl");
      writeFileSync(file, trades.map((t, i) => `${BigInt(START + recvMs[i]) * 1_000_000n} ${JSON.stringify(tradeToPayload(t))}\n`).join(""));
      const sent = session({ tape: loadFixture(file), pace: { speed: 2 } }, "/ws/btcusdt@trade");
      vi.advanceTimersByTime(2_000);
      expect(sent.map((x) => [tradeOf(x.text).t, x.at - START])).toEqual(trades.map((t, i) => [t.id, recvMs[i] / 2]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the latency toxic's delay line (virtual time)", () => {
  const latency = (meanMs: number, jitterMs: number): FeedFaultPlan => ({ toxics: [{ kind: "latency", meanMs, jitterMs }] });

  it("delays each frame by mean + seeded jitter after its publish time, never before the frame ahead of it", () => {
    const { tape, order } = unevenTape();
    /** Frames with their send times relative to the subscription. */
    const run = (seed: string) => {
      const t0 = clock();
      const sent = session({ tape, pace: { speed: 5 }, plan: latency(20, 30), seed }, BOTH);
      vi.advanceTimersByTime(1_000);
      return sent.map((x) => ({ text: x.text, at: x.at - t0 }));
    };
    const a = run("j1");
    expect(a.map((x) => tradeOf(x.text).t)).toEqual(order.map((o) => o.id));
    for (let k = 0; k < a.length; k++) {
      const pub = order[k].offset / 5;
      const delay = a[k].at - pub;
      expect(delay).toBeGreaterThanOrEqual(20);
      if (k > 0) expect(a[k].at).toBeGreaterThanOrEqual(a[k - 1].at);
      // Either its own delay (mean + jitter in [0, 30)) or held behind the frame ahead.
      if (k === 0 || a[k].at > a[k - 1].at) expect(delay).toBeLessThan(50);
    }
    expect(new Set(a.map((x, k) => x.at - order[k].offset / 5)).size).toBeGreaterThan(3); // jitter, not a constant
    expect(run("j1")).toEqual(a); // seeded
    expect(run("j2").map((x) => x.at)).not.toEqual(a.map((x) => x.at));
  });

  it("at max pace holds frames and replies mean..mean+jitter, per stream in id order", () => {
    const { sent, session: s } = open({ tape: syntheticTape(["BTCUSDT", "ETHUSDT"], 100), plan: latency(50, 30), seed: "m" }, BOTH);
    vi.advanceTimersByTime(49);
    expect(sent).toHaveLength(0);
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(200);
    for (const s of ["BTCUSDT", "ETHUSDT"]) expect(sent.map((x) => tradeOf(x.text)).filter((t) => t.s === s).map((t) => t.t)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    for (const x of sent) expect(x.at - START).toBeGreaterThanOrEqual(50);
    for (const x of sent) expect(x.at - START).toBeLessThan(80);
    s.onMessage(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 3 }));
    const asked = clock();
    vi.advanceTimersByTime(49);
    expect(sent).toHaveLength(200);
    vi.advanceTimersByTime(100);
    expect(JSON.parse(sent[200].text)).toEqual({ result: ["btcusdt@trade", "ethusdt@trade"], id: 3 });
    expect(sent[200].at - asked).toBeGreaterThanOrEqual(50);
    expect(sent[200].at - asked).toBeLessThan(80);
  });

  it("a disconnect decided after some frames happens after they are delivered, and the frames are those of the plan without latency", () => {
    const tape = syntheticTape(["BTCUSDT"], 300);
    const toxics: FeedFaultPlan["toxics"] = [{ kind: "disconnect", probability: 0.02 }, { kind: "reorder", probability: 0.1, window: 3 }, { kind: "duplicate", probability: 0.1 }];
    const plain = session({ tape, plan: { toxics }, seed: "d" }, "/ws/btcusdt@trade");
    const late = session({ tape, plan: { toxics: [...toxics, { kind: "latency", meanMs: 40, jitterMs: 20 }] }, seed: "d" }, "/ws/btcusdt@trade");
    vi.advanceTimersByTime(1_000);
    expect(plain.at(-1)!.text).toBe("<terminated>");
    expect(plain.length).toBeGreaterThan(2);
    expect(late.map((x) => x.text)).toEqual(plain.map((x) => x.text));
    expect(late.at(-1)!.at).toBeGreaterThanOrEqual(late.at(-2)!.at);
    expect(late[0].at - START).toBeGreaterThanOrEqual(40);
  });
});

describe("the end of the tape (virtual time)", () => {
  it("loop, paced: lap k's trades leave at (k * period + offset) / N with ids continuing after the tape's last", () => {
    const { tape, order } = unevenTape();
    const sent = session({ tape, pace: { speed: 5 }, endOfTape: "loop" }, BOTH);
    vi.advanceTimersByTime(2 * 12_000 + 600); // two laps of 60 s of tape time at 5x, and the start of the third
    const span: Record<string, number> = { BTCUSDT: tape.bySymbol.get("BTCUSDT")!.length, ETHUSDT: tape.bySymbol.get("ETHUSDT")!.length };
    const expected: string[] = [];
    for (let lap = 0; lap < 3; lap++) for (const o of order) if ((lap * 60_000 + o.offset) / 5 <= 2 * 12_000 + 600) expected.push(`${o.symbol} ${o.id + lap * span[o.symbol]} +${(lap * 60_000 + o.offset) / 5}`);
    expect(sent.map((x) => { const t = tradeOf(x.text); return `${t.s} ${t.t} +${x.at - START}`; })).toEqual(expected);
    expect(expected.length).toBeGreaterThan(2 * order.length);
  });

  it("paced, with the latency toxic: the close (1000 end of tape) follows the last delayed frame; a subscriber after the end gets only the close", () => {
    const { tape, order } = unevenTape();
    const core = new ExchangeCore({ tape, pace: { speed: 5 }, plan: { toxics: [{ kind: "latency", meanMs: 30, jitterMs: 0 }] }, endOfTape: "close" }, clock);
    cores.push(core);
    const record = (sent: Sent[]): SessionPort => ({
      send: (text) => void sent.push({ text, at: clock() }), bufferedAmount: () => 0,
      close: (code, reason) => void sent.push({ text: `<closed ${code} ${reason}>`, at: clock() }), terminate: () => void sent.push({ text: "<terminated>", at: clock() }),
    });
    const early: Sent[] = [];
    expect(core.open(BOTH, record(early)).ok).toBe(true);
    vi.advanceTimersByTime(1_000);
    const lastAt = order[order.length - 1].offset / 5 + 30;
    expect(early.map((x) => x.text.startsWith("<") ? x.text : String(tradeOf(x.text).t))).toEqual([...order.map((o) => String(o.id)), "<closed 1000 end of tape>"]);
    expect(early.at(-1)!.at - START).toBe(lastAt);
    expect(early.at(-2)!.at - START).toBe(lastAt);
    const late: Sent[] = [];
    expect(core.open("/ws/btcusdt@trade", record(late)).ok).toBe(true);
    vi.advanceTimersByTime(100);
    expect(late.map((x) => x.text)).toEqual(["<closed 1000 end of tape>"]);
  });
});
