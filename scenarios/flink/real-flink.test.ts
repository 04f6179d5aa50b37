import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { generateTape } from "../../sim/binance/generator.ts";
import { checkFlinkRun } from "./chaos.ts";
import { runFlink, type FlinkRunOptions } from "./run.ts";
import { flinkCommand } from "../../bin/commands/flink.ts";

/**
 * The seed job on a real Apache Flink MiniCluster (one JVM per process lifetime), fed by the
 * simulated exchange over real sockets, crashed and killed at flinch's named points; the
 * committed FileSink part files must equal the window oracle exactly.
 */
const cp = inject("flinkClasspath");
const skipWhy = inject("flinkSkipReason");
if (!cp) console.warn(`real Flink tests skipped: ${skipWhy}`);

const tape = generateTape({ seed: "real-flink-test", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 3 * 60_000, ratePerSec: 15 });

async function run(o: Partial<FlinkRunOptions> & Pick<FlinkRunOptions, "faults">) {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-real-flink-"));
  try {
    const r = await runFlink({ classpath: cp, tape, backend: "filesystem", mode: "exactly-once", sink: "file", parallelism: 2, intervalMs: 100, windowMs: 60_000, workDir, throttleUs: 200, jvmTimeoutMs: 90_000, ...o });
    return { r, checks: checkFlinkRun(tape, 60_000, r) };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const fired = (r: { fired: string[] }) => r.fired.map((f) => f.split("\t")[0]).sort();

describe.skipIf(!cp)("real Flink, EXACTLY_ONCE with FileSink", () => {
  it("crashes at every reachable point (one JVM, Flink's restart strategy restores) give exactly the oracle's windows", async () => {
    const plan = [
      "crash@task.process#1500", "crash@checkpoint.source-snapshot#1", "crash@checkpoint.sync-snapshot#2", "crash@checkpoint.complete#3",
      "crash@sink.pre-commit#2", "crash@sink.commit#1", "crash@restore#1",
    ];
    const { r, checks } = await run({ faults: plan, throttleUs: 500 });
    expect(fired(r)).toEqual([...plan].sort());
    expect(r.jvms).toBe(1);
    for (const c of checks) expect(c, c.message).toMatchObject({ valid: true });
    expect(r.committed.length).toBeGreaterThan(4);
  });

  it("process kills (inside at three points, outside when a _metadata appears) resume from the newest retained checkpoint, rocksdb", async () => {
    // Occurrences count per JVM: #1 fires at the first checkpoint (or restore) of the JVM that still holds the fault.
    const plan = ["kill@checkpoint.complete#1", "kill@sink.pre-commit#1", "kill@checkpoint.metadata#2", "kill@restore#1"];
    const { r, checks } = await run({ faults: plan, backend: "rocksdb", throttleUs: 500 });
    expect(fired(r)).toEqual([...plan].sort());
    expect(r.kills.length).toBe(4);
    expect(r.jvms).toBe(5);
    expect(r.kills.filter((k) => k.resumedFrom !== null).length).toBeGreaterThan(0);
    for (const c of checks) expect(c, c.message).toMatchObject({ valid: true });
  });
});

async function chaosJson(args: string[]): Promise<{ violations: number; failures: { property: string; replay: string; shrunk: string[] }[]; reportDir: string; reportFiles: string[] }> {
  const lines: string[] = [];
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-flink-chaos-report-"));
  const log = console.log;
  const err = process.stderr.write.bind(process.stderr);
  console.log = (s: string) => lines.push(String(s));
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const code = await flinkCommand(["chaos", "--jar", path.join(cp.split(path.delimiter)[0]), ...args, "--json", "--no-shrink", "--out", outRoot]);
    const out = JSON.parse(lines[lines.length - 1]);
    expect(code).toBe(out.violations ? 1 : 0);
    expect(path.dirname(out.reportDir)).toBe(outRoot);
    return { ...out, reportFiles: fs.readdirSync(out.reportDir).sort() };
  } finally {
    fs.rmSync(outRoot, { recursive: true, force: true });
    console.log = log;
    process.stderr.write = err;
  }
}

describe.skipIf(!cp)("teeth on real Flink", () => {
  it("AT_LEAST_ONCE with two source subtasks double-counts after a restore, found with a replay line; EXACTLY_ONCE with the same timing holds", async () => {
    // Source subtask 1 holds each barrier 300 ms (a slow upstream) while subtask 0's trades keep flowing, 2 ms each, so
    // about 150 records pass the barrier into the snapshot's state and are replayed after the restore. Checked on an
    // idle machine (3 of 3 runs found) and under load; up to eight runs, stopping at the first violation, because the
    // timing is real.
    const faults = "crash@checkpoint.complete#2,crash@checkpoint.complete#4";
    const knobs = ["--parallelism", "2", "--throttle-us", "2000", "--buffer-timeout", "0", "--barrier-delay", "300", "--faults", faults];
    const out = await chaosJson(["--mode", "at-least-once", ...knobs, "--runs", "8", "--first"]);
    expect(out.violations).toBeGreaterThanOrEqual(1);
    expect(out.failures[0].property).toBe("committed output equals the oracle");
    expect(out.failures[0].replay).toMatch(/^npx flinch flink chaos .*--mode at-least-once .*--faults 'crash@checkpoint\.complete#2,/);
    const control = await chaosJson(["--mode", "exactly-once", ...knobs]);
    expect(control.violations).toBe(0);
  });

  it("the seed's .print() under EXACTLY_ONCE prints windows again after a restore, found with a replay line", async () => {
    // No checkpoint before the crashes (20 s interval): each restart replays from the start and prints every fired window again.
    // Watermarks after every trade: windows fire as trades pass their end, not when a wall-clock timer gets its turn.
    const out = await chaosJson(["--sink", "print", "--interval", "20000", "--watermarks", "per-event", "--faults", "crash@task.process#6600", "--runs", "2"]);
    expect(out.violations).toBeGreaterThanOrEqual(1);
    expect(out.failures[0].property).toBe("committed output equals the oracle");
    expect(out.failures[0].replay).toContain("--sink print");
    expect(out.reportFiles).toEqual(["junit.xml", "report.html", "report.md", "run.json"]);
  });
});
