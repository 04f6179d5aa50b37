import * as fs from "node:fs";
import * as path from "node:path";
import type { CommittedRow } from "../committed.ts";
import { startExchangeServer } from "../../sim/binance/server/server.ts";
import type { Tape } from "../../sim/binance/tape.ts";
import { latestCheckpoint, retainedCheckpoints } from "./checkpoints.ts";
import { failureSummary, startJvm } from "./jvm.ts";
import { readCommittedParts, readLate, readPrinted, type LateRecord } from "./output.ts";
import { symbolRanges } from "./tape-file.ts";

/**
 * One run of the seed job on real Flink against `flinch serve` (in process, 127.0.0.1 port 0),
 * with a fault plan: faults at points inside the job go to the JVM's hook; `kill@checkpoint.metadata#n`
 * is flinch's own kill from outside (SIGKILL when the n-th checkpoint's `_metadata` appears).
 * A JVM that died (halted by a kill fault, or killed from outside) is restarted from the newest
 * retained checkpoint with `--restore`, as an operator would; the plan passed on holds only the
 * faults that have not fired.
 */
export type FlinkBackend = "hashmap" | "filesystem" | "rocksdb";
export type FlinkMode = "exactly-once" | "at-least-once";
export type FlinkSink = "file" | "print";

export interface FlinkRunOptions {
  readonly classpath: string;
  readonly tape: Tape;
  readonly faults: readonly string[];
  readonly backend: FlinkBackend;
  readonly mode: FlinkMode;
  readonly sink: FlinkSink;
  readonly parallelism: number;
  readonly intervalMs: number;
  readonly windowMs: number;
  /** Root for this run's checkpoints, output and logs (created; the caller removes it). */
  readonly workDir: string;
  readonly jvmTimeoutMs?: number;
  /** Microseconds each record takes in the job (spreads the tape over time; 0 = full speed). */
  readonly throttleUs?: number;
  /** Flink's network buffer timeout (ms); 0 flushes every record. Default: Flink's 100 ms. */
  readonly bufferTimeoutMs?: number;
  /** Source subtasks other than 0 hold each checkpoint barrier back this long (a slow upstream). */
  readonly barrierDelayMs?: number;
  /** Watermark generation: the seed's periodic bounded out-of-orderness (default) or the same bound after every trade. */
  readonly watermarks?: "bounded" | "per-event";
  readonly maxJvms?: number;
}

export type FlinkRunStatus = "FINISHED" | "FAILED" | "TIMED_OUT";

export interface FlinkRunResult {
  readonly status: FlinkRunStatus;
  readonly failure?: string;
  readonly committed: CommittedRow[];
  readonly late: LateRecord[];
  /** Faults that fired, in order, as `plan-text\ttask`. */
  readonly fired: string[];
  readonly jvms: number;
  /** Each kill: what fired it, and the checkpoint the next JVM resumed from (null = from scratch). */
  readonly kills: { fault: string; resumedFrom: number | null; latestRetained: number | null }[];
  readonly checkpointsRetained: number;
  readonly wallMs: number;
}

const OUTSIDE_KILL = /^kill@checkpoint\.metadata#(\d+)$/;

export async function runFlink(o: FlinkRunOptions): Promise<FlinkRunResult> {
  const t0 = performance.now();
  fs.mkdirSync(o.workDir, { recursive: true });
  const chk = path.join(o.workDir, "checkpoints");
  const out = path.join(o.workDir, "out");
  const firedLog = path.join(o.workDir, "fired.log");
  const server = await startExchangeServer({ tape: o.tape, pace: "max", host: "127.0.0.1", port: 0 });
  const inside = o.faults.filter((f) => !OUTSIDE_KILL.test(f));
  const outside = o.faults.filter((f) => OUTSIDE_KILL.test(f)).map((f) => ({ text: f, n: Number(OUTSIDE_KILL.exec(f)![1]) })).sort((a, b) => a.n - b.n);
  const kills: FlinkRunResult["kills"] = [];
  const fired: string[] = [];
  let printed = "";
  let jvms = 0;
  let status: FlinkRunStatus = "FAILED";
  let failure: string | undefined;
  let metadataSeen = 0;
  try {
    while (jvms < (o.maxJvms ?? 6)) {
      jvms++;
      const firedBefore = readFired(firedLog);
      const remaining = inside.filter((f) => !firedBefore.some((l) => l.split("\t")[0] === f));
      const latest = jvms === 1 ? undefined : latestCheckpoint(chk);
      const args = [
        "--ws", server.wsUrl, "--rest", server.httpUrl, "--symbols", symbolRanges(o.tape),
        "--sink", o.sink, "--out", out, "--checkpoints", chk, "--backend", o.backend, "--mode", o.mode,
        "--interval", String(o.intervalMs), "--min-pause", "0", "--restart-attempts", "10", "--restart-delay", "50",
        "--window", String(o.windowMs), "--parallelism", String(o.parallelism), "--fired-log", firedLog, "--late",
        ...(o.throttleUs ? ["--throttle-us", String(o.throttleUs)] : []),
        ...(o.watermarks ? ["--watermarks", o.watermarks] : []),
        ...(o.barrierDelayMs ? ["--barrier-delay", String(o.barrierDelayMs)] : []),
        ...(o.bufferTimeoutMs !== undefined ? ["--buffer-timeout", String(o.bufferTimeoutMs)] : []),
        ...(remaining.length ? ["--faults", remaining.join(",")] : []),
        ...(latest ? ["--restore", latest.dir] : []),
      ];
      const jvm = startJvm(o.classpath, args, o.jvmTimeoutMs ?? 120_000, path.join(o.workDir, "jvm-tmp"));
      // Kills from outside: watch for the n-th distinct _metadata of this run.
      let outsideKill: string | undefined;
      const seen = new Set(retainedCheckpoints(chk).map((c) => c.dir));
      const watcher = outside.length ? setInterval(() => { // real-time: polling the real disk for _metadata
        for (const c of retainedCheckpoints(chk)) {
          if (seen.has(c.dir)) continue;
          seen.add(c.dir);
          metadataSeen++;
          const due = outside.find((f) => f.n === metadataSeen);
          if (due && !outsideKill) {
            outsideKill = due.text;
            jvm.kill();
          }
        }
      }, 10) : undefined;
      const r = await jvm.done;
      if (watcher) clearInterval(watcher);
      printed += r.stdout;
      const newlyFired = readFired(firedLog).slice(firedBefore.length);
      fired.push(...newlyFired);
      if (outsideKill) fired.push(`${outsideKill}\tJVM`);
      if (r.code === 0) {
        status = "FINISHED";
        break;
      }
      const killFault = outsideKill ?? newlyFired.map((l) => l.split("\t")[0]).find((f) => f.startsWith("kill@"));
      if (r.timedOut && !outsideKill) {
        status = "TIMED_OUT";
        failure = `JVM ${jvms} did not finish within ${(o.jvmTimeoutMs ?? 120_000) / 1000}s: ${failureSummary(r.stderr)}`;
        break;
      }
      if (!killFault) {
        failure = `JVM ${jvms} exited ${r.code ?? r.signal}: ${failureSummary(r.stderr)}`;
        break;
      }
      const next = latestCheckpoint(chk);
      kills.push({ fault: killFault, resumedFrom: next ? next.id : null, latestRetained: next ? next.id : null });
    }
    if (status !== "FINISHED" && !failure) failure = `gave up after ${jvms} JVMs`;
  } finally {
    await server.close();
  }
  const committed = o.sink === "file" ? readCommittedParts(out) : readPrinted(printed);
  return { status, failure, committed, late: readLate(printed), fired, jvms, kills, checkpointsRetained: retainedCheckpoints(chk).length, wallMs: performance.now() - t0 };
}

function readFired(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
}
