/**
 * A realistic run model for renderer tests and for eyeballing reports: an at-least-once chaos
 * run on two symbols where a crash during checkpoint 3's async write led to one duplicate
 * window and one wrong sum. Every number agrees with every other one (restart count, crash
 * times, checkpoint ids), so a renderer bug shows up as an inconsistency on the page.
 */
import { RUN_MODEL_VERSION } from "./model.ts";
import type { CheckpointRow, RunModel, RunSummary, TimelineEvent, WindowResultRow } from "./model.ts";

export type SampleModelOverrides = Partial<Omit<RunModel, "summary">> & { summary?: Partial<RunSummary> };

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const MIN = 60_000;
const SEED = "1597463007";
const ENGINE_SEED = "24";
const REPLAY = `npx flinch chaos --scenario mid-checkpoint-crash --backend file --mode at-least-once --runs 1 --seed ${SEED} --path 12:0:1`;

/** Expected [quantity, count] per symbol and minute, as the window oracle would compute them. */
const TAPE: Record<string, [string, number][]> = {
  BTCUSDT: [["1.25340000", 412], ["0.98710000", 388], ["2.10050000", 455], ["1.40000000", 401], ["0.75320000", 367], ["1.88000000", 430]],
  ETHUSDT: [["14.20000000", 402], ["9.87650000", 379], ["11.31000000", 398], ["12.05000000", 410], ["8.44400000", 366], ["10.00000000", 404]],
};

function windows(): WindowResultRow[] {
  const rows: WindowResultRow[] = [];
  for (const [symbol, minutes] of Object.entries(TAPE)) {
    minutes.forEach(([q, n], i) => {
      const row: WindowResultRow = {
        symbol, start: T0 + i * MIN, end: T0 + (i + 1) * MIN,
        expectedQuantity: q, expectedCount: n, committedQuantity: q, committedCount: n, commits: 1, status: "ok",
      };
      // Replayed from checkpoint 2 without a transactional sink: minute 2 was emitted again.
      if (symbol === "BTCUSDT" && i === 2) Object.assign(row, { commits: 2, status: "duplicate" });
      // Part of minute 3 was replayed into a window that had already fired.
      if (symbol === "ETHUSDT" && i === 3) Object.assign(row, { committedQuantity: "12.36500000", committedCount: 419, status: "wrong-sum" });
      rows.push(row);
    });
  }
  return rows;
}

function checkpoints(): CheckpointRow[] {
  const cp = (id: number, at: number, e2e: number, over: Partial<CheckpointRow> = {}): CheckpointRow => ({
    id, status: "completed", final: false, savepoint: false, triggerTime: at, endTime: at + e2e, endToEndMs: e2e,
    alignmentMs: 4 * id, syncWallMs: 0.4 + id / 10, asyncWallMs: 3 + id * 1.5, acknowledged: 6, total: 6,
    stateBytes: 14_000 + id * 2_350, ...over,
  });
  return [
    cp(1, T0 + 1 * MIN, 120),
    cp(2, T0 + 2 * MIN, 135),
    cp(3, T0 + 3 * MIN, 5_000, {
      status: "failed", acknowledged: 4, stateBytes: 0, asyncWallMs: 0,
      failureReason: "TASK_FAILURE: Task has failed. (Window(sum)#1 crashed at checkpoint.async-write)",
    }),
    cp(4, T0 + 4 * MIN + 500, 150),
    cp(5, T0 + 5 * MIN + 500, 142),
    cp(6, T0 + 6 * MIN + 2_000, 98, { final: true }),
  ];
}

function timeline(cps: CheckpointRow[]): TimelineEvent[] {
  const events: TimelineEvent[] = cps.map((c) => ({ kind: "checkpoint", time: c.triggerTime, endTime: c.endTime, id: c.id, status: c.status }));
  events.push(
    { kind: "crash", time: T0 + 3 * MIN + 40, task: "Window(sum)#1", point: "checkpoint.async-write", error: "injected crash at checkpoint.async-write in Window(sum)#1 (checkpoint 3)" },
    { kind: "crash", time: T0 + 3 * MIN + 45, task: "Sink(2pc)#0", point: "sink.pre-commit", error: "injected crash at sink.pre-commit in Sink(2pc)#0" },
    { kind: "restart", time: T0 + 3 * MIN + 5_000, attempt: 1, checkpointId: 2 },
  );
  for (const task of ["Source: Binance#0", "Source: Binance#1"]) {
    const lag = task.endsWith("#0") ? 2_000 : 3_500;
    for (let t = 0; t <= 6 * MIN + 2_000; t += 20_000) {
      // After the restart the watermark starts again from the restored checkpoint's position.
      const wm = t > 3 * MIN + 5_000 && t < 3 * MIN + 30_000 ? T0 + 2 * MIN : T0 + t - lag;
      events.push({ kind: "watermark", time: T0 + t, task, watermark: wm });
    }
  }
  return events.sort((a, b) => a.time - b.time);
}

export function sampleModel(overrides: SampleModelOverrides = {}): RunModel {
  const cps = checkpoints();
  const { summary, ...rest } = overrides;
  const model: RunModel = {
    version: RUN_MODEL_VERSION,
    summary: {
      runId: `chaos-${SEED}-12-0-1`, command: "chaos", jobName: "per-symbol 1m volume", userSeed: SEED, engineSeed: ENGINE_SEED, status: "FINISHED",
      traceHash: "9f2c4e1ab03d7c55e8a1f0b6d2c9347e1b5a8f60c3d2e7b94a1f5c6d8e0b2a37",
      backend: "file", mode: "at-least-once", parallelism: 2, checkpointInterval: MIN, checkpointStorage: "filesystem (SimFs)",
      restartStrategy: "fixed-delay (3 attempts, 5 s)", inputs: ["generator: 2 symbols, 6 min, 30 trades/s"],
      trades: 4_812, startTime: T0, endTime: T0 + 6 * MIN + 2_100, restarts: 1, wallMs: 843.2, tradesPerSec: 5_707,
    },
    plan: [
      "Source: Binance (parallelism 2)",
      "  -> keyBy(symbol) -> Window(sum) tumbling 1 min, event time, out-of-orderness 2 s (parallelism 2)",
      "  -> Sink(2pc) exactly-once disabled: mode at-least-once (parallelism 2)",
    ],
    warnings: [
      "checkpoint 3 failed: Task has failed. (TASK_FAILURE)",
      "3 trades arrived after their window fired and went to the late-data side output",
    ],
    properties: [
      { name: "committed output equals the oracle", valid: false, message: "2 of 12 windows differ: BTCUSDT 2024-05-01T12:02:00Z–12:03:00Z committed 2 times; ETHUSDT 2024-05-01T12:03:00Z–12:04:00Z committed 12.365 in 419 trades, expected 12.05 in 410 trades" },
      { name: "each window committed once", valid: false, message: "1 window committed more than once: BTCUSDT 2024-05-01T12:02:00Z–12:03:00Z ×2" },
      { name: "every restore uses the latest valid complete checkpoint", valid: true, message: "1 restore, from checkpoint 2 (latest completed at the failure)" },
      { name: "same seed, same trace hash", valid: "unknown", message: "not checked: the run was not repeated (use --runs 2 or more)" },
      { name: "the job finishes when faults stay within the restart budget", valid: true, message: "FINISHED after 1 of 3 allowed restarts" },
    ],
    violations: [
      { property: "committed output equals the oracle", message: "2 of 12 windows differ: BTCUSDT 2024-05-01T12:02:00Z–12:03:00Z committed 2 times; ETHUSDT 2024-05-01T12:03:00Z–12:04:00Z committed 12.365 in 419 trades, expected 12.05 in 410 trades", seed: SEED, engineSeed: ENGINE_SEED, path: "12:0:1", replay: REPLAY, faults: [{ kind: "crash", point: "checkpoint.async-write", task: "Window(sum)#1", checkpointId: 3 }] },
      { property: "each window committed once", message: "1 window committed more than once: BTCUSDT 2024-05-01T12:02:00Z–12:03:00Z ×2", seed: SEED, engineSeed: ENGINE_SEED, path: "12:0:1", replay: REPLAY, faults: [{ kind: "crash", point: "checkpoint.async-write", task: "Window(sum)#1", checkpointId: 3 }] },
    ],
    windows: windows(),
    late: [
      { symbol: "BTCUSDT", count: 1, quantity: "0.01200000" },
      { symbol: "ETHUSDT", count: 2, quantity: "0.45000000" },
    ],
    checkpoints: cps,
    timeline: timeline(cps),
    counters: { "input.quarantined": 0, "input.duplicates": 2, "input.gaps": 1, "feed.reconnects": 1, "sink.aborted-transactions": 1 },
    runs: [
      { seed: SEED, path: "12", faults: [{ kind: "crash", point: "checkpoint.async-write" }, { kind: "crash", point: "sink.pre-commit" }], valid: false, property: "committed output equals the oracle", traceHash: "5b7e0c1d9a2f4e6b8c3a1d0f7e9b2c4a6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a" },
      { seed: SEED, path: "12:0:1", faults: [{ kind: "crash", point: "checkpoint.async-write" }], valid: false, property: "committed output equals the oracle", traceHash: "9f2c4e1ab03d7c55e8a1f0b6d2c9347e1b5a8f60c3d2e7b94a1f5c6d8e0b2a37" },
    ],
    ...rest,
  };
  if (summary) model.summary = { ...model.summary, ...summary };
  return model;
}

/** The sample with markup, quotes, pipes, backticks and newlines in every free-text field a fixture or exception can reach. */
export function hostileModel(): RunModel {
  const evil = `<script>alert(1)</script> "q" 'a' & | \`tick\` \n# heading`;
  const m = sampleModel({
    summary: { jobName: `job ${evil}`, inputs: [`fixtures/${evil}.jsonl`], failureReason: evil, status: "FAILED", userSeed: `s${evil}`, engineSeed: `e${evil}` },
    warnings: [`warning ${evil}`, "<img src=x onerror=alert(2)>"],
    plan: [`Source ${evil}`],
    counters: { [`counter ${evil}`]: 1, ["__proto__"]: 2 },
    late: [{ symbol: evil, count: 1, quantity: "0.10000000" }],
  });
  m.windows[9].symbol = evil;
  m.properties[0].name = `prop ${evil}`;
  m.properties[0].message = `message ${evil}`;
  m.violations[0] = { ...m.violations[0], property: m.properties[0].name, message: `violation ${evil}`, replay: `flinch replay 'fixtures/${evil}.jsonl' --seed \`\`\`x` };
  m.checkpoints[2].failureReason = `reason ${evil}`;
  for (const e of m.timeline) if (e.kind === "crash" || e.kind === "watermark") e.task = `task ${evil}`;
  for (const e of m.timeline) if (e.kind === "crash") e.error = `error ${evil}`;
  return m;
}

/** n one-minute windows alternating two symbols; the rows at `bad` indexes have a wrong sum. */
export function manyWindows(n: number, bad: number[]): WindowResultRow[] {
  return Array.from({ length: n }, (_, i): WindowResultRow => ({
    symbol: i % 2 ? "ETHUSDT" : "BTCUSDT", start: 1_714_564_800_000 + i * 60_000, end: 1_714_564_860_000 + i * 60_000,
    expectedQuantity: "1.00000000", expectedCount: 10, committedQuantity: bad.includes(i) ? "2.00000000" : "1.00000000",
    committedCount: 10, commits: 1, status: bad.includes(i) ? "wrong-sum" : "ok",
  }));
}
