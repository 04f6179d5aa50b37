import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StreamExecutionEnvironment } from "../../engine/api/environment.ts";
import { Duration } from "../../engine/api/time.ts";
import { WatermarkStrategy } from "../../engine/api/watermark-strategy.ts";
import { OutputTag, TumblingEventTimeWindows } from "../../engine/api/windows.ts";
import { BinanceWebSocketSource } from "../../engine/connectors/binance/source.ts";
import { CollectSink, CollectStore } from "../../engine/connectors/sinks/collect-sink.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import type { WindowSum } from "../../engine/api/datastream.ts";
import type { LateRecord } from "../../engine/runtime/window-operator.ts";
import { formatFixed, parseFixed } from "../../engine/decimal.ts";
import { SimulatedTradeFeed } from "../../sim/binance/sim-feed.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import type { CommittedRow } from "../committed.ts";
import { bySymbolThenStart } from "../oracle.ts";
import { failureSummary, startJvm } from "./jvm.ts";
import { readLate, readPrinted } from "./output.ts";
import { writeTapeFile } from "./tape-file.ts";

/**
 * The differential oracle for flinch's engine: one tape through flinch's seed job and through
 * the same job on real Flink (bounded pre-parsed source, parallelism 1, no faults), compared
 * window by window (sum, count) and by late records (the side output, per symbol).
 */
export type WatermarkMode = "bounded" | "none";

export interface SideResult {
  readonly rows: CommittedRow[];
  /** Late records per symbol: count and exact quantity. */
  readonly late: Map<string, { count: number; quantity: bigint }>;
}

export interface DiffOptions {
  readonly classpath: string;
  readonly windowMs: number;
  readonly watermarks: WatermarkMode;
  readonly outOfOrdernessMs: number;
  readonly jvmTimeoutMs?: number;
}

export function flinchSide(tape: Tape, o: Pick<DiffOptions, "windowMs" | "watermarks" | "outOfOrdernessMs">): SideResult {
  const feed = new SimulatedTradeFeed(tape);
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1, log: { warn() {}, info() {} }, world: { feed, startTime: feed.startTime() } });
  env.setParallelism(1);
  const store = new CollectStore<WindowSum>();
  const lateStore = new CollectStore<LateRecord<Trade>>();
  const LATE = new OutputTag<LateRecord<Trade>>("late");
  const wm = o.watermarks === "none" ? WatermarkStrategy.noWatermarks<Trade>() : WatermarkStrategy.forBoundedOutOfOrderness<Trade>(Duration.ofMillis(o.outOfOrdernessMs));
  const sums = env.fromSource(new BinanceWebSocketSource(...tape.symbols), wm, "Binance Trade Source")
    .keyBy((t) => t.symbol)
    .window(TumblingEventTimeWindows.of(o.windowMs))
    .sideOutputLateData(LATE)
    .sum("quantity");
  sums.sinkTo(new CollectSink(store));
  sums.getSideOutput(LATE).sinkTo(new CollectSink(lateStore));
  env.executeSync("flink-diff");
  const late = new Map<string, { count: number; quantity: bigint }>();
  for (const l of lateStore.committed) {
    const t = l.value;
    const x = late.get(t.symbol) ?? { count: 0, quantity: 0n };
    x.count++;
    x.quantity += t.quantity;
    late.set(t.symbol, x);
  }
  return { rows: store.committed.map((w) => ({ symbol: String(w.key), start: w.start, end: w.end, quantity: w.sum as bigint, count: w.count })), late };
}

export async function flinkSide(tape: Tape, o: DiffOptions): Promise<SideResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-flink-diff-"));
  try {
    const file = path.join(dir, "tape.tsv");
    writeTapeFile(tape, file);
    const jvm = startJvm(o.classpath, [
      "--tape", file, "--sink", "print", "--late", "--checkpoints", path.join(dir, "chk"), "--backend", "hashmap",
      "--window", String(o.windowMs),
      // per-event: Flink's bounded-out-of-orderness bound, emitted after every trade rather than every 200 ms of wall time (see PerEventWatermarks.java).
      "--watermarks", o.watermarks === "none" ? "none" : "per-event", "--out-of-orderness", String(o.outOfOrdernessMs),
    ], o.jvmTimeoutMs ?? 180_000, path.join(dir, "jvm-tmp"));
    const r = await jvm.done;
    if (r.code !== 0) throw new Error(`the Flink job failed (exit ${r.code ?? r.signal}${r.timedOut ? ", timed out" : ""}): ${failureSummary(r.stderr)}`);
    const late = new Map<string, { count: number; quantity: bigint }>();
    for (const l of readLate(r.stdout)) {
      const x = late.get(l.symbol) ?? { count: 0, quantity: 0n };
      x.count++;
      x.quantity += parseFixed(l.quantity);
      late.set(l.symbol, x);
    }
    return { rows: readPrinted(r.stdout), late };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface WindowDiff {
  readonly symbol: string;
  readonly start: number;
  readonly flinch?: { quantity: string; count: number };
  readonly flink?: { quantity: string; count: number };
}

export interface DiffReport {
  readonly windows: number;
  readonly differences: WindowDiff[];
  readonly late: { symbol: string; flinch: { count: number; quantity: string }; flink: { count: number; quantity: string } }[];
  readonly lateDiffers: boolean;
}

export function compareSides(a: SideResult, b: SideResult): DiffReport {
  const key = (r: { symbol: string; start: number }) => `${r.symbol}\u0000${r.start}`;
  const fa = new Map(a.rows.map((r) => [key(r), r]));
  const fb = new Map(b.rows.map((r) => [key(r), r]));
  const all = [...new Map([...a.rows, ...b.rows].map((r) => [key(r), r])).values()].sort(bySymbolThenStart);
  const differences: WindowDiff[] = [];
  for (const w of all) {
    const x = fa.get(key(w)), y = fb.get(key(w));
    if (x && y && x.quantity === y.quantity && x.count === y.count) continue;
    differences.push({
      symbol: w.symbol, start: w.start,
      ...(x ? { flinch: { quantity: formatFixed(x.quantity), count: x.count } } : {}),
      ...(y ? { flink: { quantity: formatFixed(y.quantity), count: y.count } } : {}),
    });
  }
  const symbols = [...new Set([...a.late.keys(), ...b.late.keys()])].sort();
  const zero = { count: 0, quantity: 0n };
  const late = symbols.map((s) => {
    const x = a.late.get(s) ?? zero, y = b.late.get(s) ?? zero;
    return { symbol: s, flinch: { count: x.count, quantity: formatFixed(x.quantity) }, flink: { count: y.count, quantity: formatFixed(y.quantity) } };
  });
  const lateDiffers = late.some((l) => l.flinch.count !== l.flink.count || l.flinch.quantity !== l.flink.quantity);
  return { windows: all.length, differences, late, lateDiffers };
}
