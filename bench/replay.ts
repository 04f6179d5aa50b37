import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { formatFixed } from "../engine/decimal.ts";
import { tradeToPayload } from "../engine/connectors/binance/codec.ts";
import { generateTape } from "../sim/binance/generator.ts";
import { tapeTrades, type Tape } from "../sim/binance/tape.ts";

/**
 * The `replay` figure: a generated 24-hour, 2-symbol tape at about BTCUSDT's density (~2 M
 * trades) written once as JSONL under .tmp/ (git-ignored), replayed through the CLI with 3
 * crashes, timed from process start (TypeScript compilation included), as a multiple of the
 * tape's real duration. The committed windows must equal the oracle computed here from the tape.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DAY_MS = 86_400_000;
/** Trades per second per symbol: 2 symbols × 12/s × 86,400 s ≈ 2.07 M trades. */
const RATE = 12;
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const WINDOW_MS = 60_000;

export interface ReplayFigure {
  trades: number;
  tapeMs: number;
  wallMs: number;
  /** Tape duration / wall time, start-up included. */
  speedup: number;
  crashes: number;
  crashEvery: number;
  windows: number;
  file: string;
}

/** The tape, generated on first use and kept as JSONL in .tmp/bench/ for later runs. */
export function replayTape(durationMs = DAY_MS, rate = RATE): { file: string; tape: Tape } {
  const tape = generateTape({ seed: "bench-replay", symbols: SYMBOLS, durationMs, ratePerSec: rate });
  const dir = path.join(ROOT, ".tmp", "bench");
  const file = path.join(dir, `replay-${SYMBOLS.length}sym-${durationMs}ms-${rate}ps-${tape.stats.trades}.jsonl`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, "w");
    try {
      let chunk: string[] = [];
      for (const t of tapeTrades(tape)) {
        chunk.push(JSON.stringify(tradeToPayload(t)));
        if (chunk.length === 100_000) fs.writeSync(fd, chunk.join("\n") + "\n"), (chunk = []);
      }
      if (chunk.length) fs.writeSync(fd, chunk.join("\n") + "\n");
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }
  return { file, tape };
}

/** Per-symbol, per-window exact sums and counts straight from the tape: what the job must commit. */
function oracle(tape: Tape): Map<string, { quantity: string; count: number }> {
  const sums = new Map<string, { q: bigint; n: number }>();
  for (const [symbol, trades] of tape.bySymbol) {
    for (const t of trades) {
      const k = `${symbol}|${t.time - (t.time % WINDOW_MS)}`;
      const w = sums.get(k);
      if (w) (w.q += t.quantity), w.n++;
      else sums.set(k, { q: t.quantity, n: 1 });
    }
  }
  return new Map([...sums].map(([k, v]) => [k, { quantity: formatFixed(v.q), count: v.n }]));
}

interface ReplayJson {
  trades: number;
  windows: { symbol: string; start: number; quantity: string; count: number }[];
  late: Record<string, { count: number }>;
  violations: number;
  traceHash: string;
  reportDir: string;
}

/**
 * Runs `node --import tsx bin/flinch.ts replay FILE --crash-every N --json` and checks its
 * windows against the oracle. The default `crashEvery` gives 3 crashes over the tape.
 */
export function benchReplay(opts: { durationMs?: number; rate?: number; crashEvery?: number } = {}): ReplayFigure {
  const { file, tape } = replayTape(opts.durationMs, opts.rate);
  const tapeMs = (opts.durationMs ?? DAY_MS);
  const crashEvery = opts.crashEvery ?? crashEveryFor(tape.stats.trades);
  const out = fs.mkdtempSync(path.join(ROOT, ".tmp", "bench", "replay-out-"));
  try {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "bin", "flinch.ts"), "replay", file, "--crash-every", String(crashEvery), "--out", out, "--json"], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    const wallMs = performance.now() - t0;
    if (r.status !== 0) throw new Error(`bench replay: exit ${r.status}\n${r.stderr.slice(0, 2000)}`);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as ReplayJson;
    if (res.violations !== 0) throw new Error(`bench replay: ${res.violations} violations`);
    if (res.trades !== tape.stats.trades) throw new Error(`bench replay: ${res.trades} trades read, tape has ${tape.stats.trades}`);
    const late = Object.values(res.late).reduce((a, l) => a + l.count, 0);
    if (late !== 0) throw new Error(`bench replay: ${late} late trades on an in-order tape`);
    const want = oracle(tape);
    const got = new Map(res.windows.map((w) => [`${w.symbol}|${w.start}`, { quantity: w.quantity, count: w.count }]));
    if (got.size !== want.size) throw new Error(`bench replay: ${got.size} windows, oracle ${want.size}`);
    for (const [k, w] of want) {
      const g = got.get(k);
      if (!g || g.quantity !== w.quantity || g.count !== w.count) throw new Error(`bench replay: window ${k} is ${JSON.stringify(g)}, oracle ${JSON.stringify(w)}`);
    }
    const crashes = countCrashes(out);
    if (opts.crashEvery === undefined && crashes !== 3) throw new Error(`bench replay: ${crashes} crashes fired, expected 3`);
    return { trades: tape.stats.trades, tapeMs, wallMs, speedup: tapeMs / wallMs, crashes, crashEvery, windows: got.size, file: path.relative(ROOT, file) };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/**
 * `--crash-every N` crashes the job each time the replay reaches another N records of the tape
 * (bin/commands/crash-plan.ts), so N = trades / 3.5 gives exactly 3 crashes, at 2/7, 4/7 and
 * 6/7 of the tape, whatever a trade costs the engine in steps.
 */
function crashEveryFor(trades: number): number {
  return Math.max(1, Math.floor(trades / 3.5));
}

/** Crashes as the report counted them (counters["faults.fired"] of the one run.json under `out`). */
function countCrashes(out: string): number {
  for (const d of fs.readdirSync(out)) {
    const f = path.join(out, d, "run.json");
    if (!fs.existsSync(f)) continue;
    const m = JSON.parse(fs.readFileSync(f, "utf8")) as { counters?: Record<string, number> };
    return m.counters?.["faults.fired"] ?? -1;
  }
  return -1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const hours = Number(process.argv[2] ?? 24);
  const r = benchReplay({ durationMs: hours * 3_600_000, crashEvery: process.argv[3] ? Number(process.argv[3]) : undefined });
  console.log({ ...r, speedup: Math.round(r.speedup) });
}
