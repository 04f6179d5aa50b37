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

/** How the CLI is started: the compiled package (dist/, what an installed `flinch` runs) or TypeScript through tsx (`npm run flinch`). */
export type CliKind = "dist" | "tsx";

export interface ReplayRun {
  cli: CliKind;
  wallMs: number;
  /** Tape duration / wall time, start-up included. */
  speedup: number;
}

export interface ReplayFigure {
  trades: number;
  tapeMs: number;
  /** The compiled CLI's run (the figure: what installed users run). */
  wallMs: number;
  speedup: number;
  /** Every run, in the order they ran (tsx and dist interleaved). */
  runs: ReplayRun[];
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
 * Runs `replay FILE --crash-every N --json` as a new process, timed from its start, once per
 * entry of `clis` (default: tsx, then the compiled CLI, so the two are compared under the same
 * load), and checks every run's windows against the oracle. The compiled CLI is built first
 * when dist/ is missing or older than the sources, outside the timed part.
 */
export function benchReplay(opts: { durationMs?: number; rate?: number; crashEvery?: number; clis?: CliKind[] } = {}): ReplayFigure {
  const { file, tape } = replayTape(opts.durationMs, opts.rate);
  const tapeMs = (opts.durationMs ?? DAY_MS);
  const crashEvery = opts.crashEvery ?? crashEveryFor(tape.stats.trades);
  const clis = opts.clis ?? ["tsx", "dist"];
  if (clis.includes("dist")) ensureBuilt();
  const want = oracle(tape);
  const runs: ReplayRun[] = [];
  let crashes = -1;
  for (const cli of clis) {
    const out = fs.mkdtempSync(path.join(ROOT, ".tmp", "bench", "replay-out-"));
    try {
      const argv = cli === "dist" ? [path.join(ROOT, "dist", "bin", "flinch.js")] : ["--import", "tsx", path.join(ROOT, "bin", "flinch.ts")];
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [...argv, "replay", file, "--crash-every", String(crashEvery), "--out", out, "--json"], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 1 << 28,
      });
      const wallMs = performance.now() - t0;
      if (r.status !== 0) throw new Error(`bench replay (${cli}): exit ${r.status}\n${r.stderr.slice(0, 2000)}`);
      checkRun(JSON.parse(r.stdout.trim().split("\n").pop()!) as ReplayJson, tape.stats.trades, want, cli);
      crashes = countCrashes(out);
      if (opts.crashEvery === undefined && crashes !== 3) throw new Error(`bench replay (${cli}): ${crashes} crashes fired, expected 3`);
      runs.push({ cli, wallMs, speedup: tapeMs / wallMs });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }
  const main = runs.find((r) => r.cli === "dist") ?? runs[0]!;
  return { trades: tape.stats.trades, tapeMs, wallMs: main.wallMs, speedup: main.speedup, runs, crashes, crashEvery, windows: want.size, file: path.relative(ROOT, file) };
}

/** A run counts only if it committed exactly the oracle's windows, read every trade and saw no violation. */
function checkRun(res: ReplayJson, trades: number, want: Map<string, { quantity: string; count: number }>, cli: CliKind): void {
  if (res.violations !== 0) throw new Error(`bench replay (${cli}): ${res.violations} violations`);
  if (res.trades !== trades) throw new Error(`bench replay (${cli}): ${res.trades} trades read, tape has ${trades}`);
  const late = Object.values(res.late).reduce((a, l) => a + l.count, 0);
  if (late !== 0) throw new Error(`bench replay (${cli}): ${late} late trades on an in-order tape`);
  const got = new Map(res.windows.map((w) => [`${w.symbol}|${w.start}`, { quantity: w.quantity, count: w.count }]));
  if (got.size !== want.size) throw new Error(`bench replay (${cli}): ${got.size} windows, oracle ${want.size}`);
  for (const [k, w] of want) {
    const g = got.get(k);
    if (!g || g.quantity !== w.quantity || g.count !== w.count) throw new Error(`bench replay (${cli}): window ${k} is ${JSON.stringify(g)}, oracle ${JSON.stringify(w)}`);
  }
}

/** `npm run build` when dist/bin/flinch.js is missing or older than any source file it is built from. */
function ensureBuilt(): void {
  const bin = path.join(ROOT, "dist", "bin", "flinch.js");
  const built = fs.existsSync(bin) ? fs.statSync(bin).mtimeMs : -1;
  const newer = (dir: string): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return newer(p);
      return e.name.endsWith(".ts") && fs.statSync(p).mtimeMs > built;
    });
  if (built >= 0 && !["bin", "engine", "sim", "scenarios", "reports"].some((d) => newer(path.join(ROOT, d)))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench replay: npm run build failed\n${r.stdout}${r.stderr}`.slice(0, 4000));
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
  // tsx bench/replay.ts [HOURS] [CRASH_EVERY|-] [tsx,dist,...]: e.g. `24 - tsx,dist,tsx,dist` for two interleaved pairs.
  const hours = Number(process.argv[2] ?? 24);
  const every = process.argv[3] && process.argv[3] !== "-" ? Number(process.argv[3]) : undefined;
  const clis = process.argv[4] ? (process.argv[4].split(",") as CliKind[]) : undefined;
  const r = benchReplay({ durationMs: hours * 3_600_000, crashEvery: every, clis });
  console.log({ ...r, speedup: Math.round(r.speedup), runs: r.runs.map((x) => `${x.cli} ${(x.wallMs / 1000).toFixed(2)} s ${Math.round(x.speedup)}x`) });
}
