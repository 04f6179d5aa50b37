import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { NodeFs } from "../engine/state/fs.ts";
import type { JobExecutionResult } from "../engine/api/environment.ts";
import { readCommittedLines } from "../engine/connectors/sinks/transactional-file-sink.ts";
import { tapeTotals } from "../sim/binance/tape.ts";
import { checkConservation, checkFinished, checkKills, checkOnce, checkOracle, compose, type CheckResult } from "./checkers.ts";
import { parseCommittedLine } from "./committed.ts";
import { windowOracle } from "./oracle.ts";
import { tapeFor, type KillRecord } from "./run-scenario.ts";
import type { ScenarioSpec } from "./spec.ts";

// Compiled (an installed package, dist/): plain node runs bin/flinch.js; from the sources, tsx runs bin/flinch.ts.
const COMPILED = import.meta.url.endsWith(".js");
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), COMPILED ? "../bin/flinch.js" : "../bin/flinch.ts");
const LOADER = COMPILED ? [] : ["--import", "tsx"];
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface ProcessRun {
  readonly processes: number;
  readonly kills: KillRecord[];
  readonly checks: CheckResult[];
  readonly valid: boolean | "unknown";
  readonly dir: string;
}

function spawnWorker(specFile: string, root: string, resume: boolean): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = [...LOADER, BIN, "_worker", "--spec", specFile, "--root", root, ...(resume ? ["--resume"] : [])];
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/**
 * Real process kills: each `kill` fault SIGKILLs a child process running the job on the real
 * disk; the parent starts a fresh process that resumes from the checkpoint directory, and in
 * the end checks the committed output it finds on disk. Nothing is simulated but the feed.
 */
export async function runWithProcessKills(spec: ScenarioSpec, keepDir = false): Promise<ProcessRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-process-"));
  try {
    const kills: KillRecord[] = [];
    let faults = spec.faults;
    let result: { status: JobExecutionResult["status"]; failureReason?: string; restarts: number; startedFrom: number | null; late: Record<string, { quantity: string; count: number }> } | undefined;
    let processes = 0;
    while (!result) {
      if (++processes > spec.faults.length + 1) throw new Error("more processes than kill faults: a kill did not fire where it was planned");
      const specFile = path.join(dir, `spec-${processes}.json`);
      fs.writeFileSync(specFile, JSON.stringify({ ...spec, faults })); // the worker runs on the real disk whatever spec.job.disk says
      fs.rmSync(path.join(dir, "killed.json"), { force: true });
      const r = await spawnWorker(specFile, dir, processes > 1);
      if (r.signal === "SIGKILL") {
        const k = JSON.parse(fs.readFileSync(path.join(dir, "killed.json"), "utf8")) as { site: { point: string; task: string }; latestCompleted: number | null; startedFrom: number | null; fired: number };
        if (kills.length) kills[kills.length - 1].resumedFrom = k.startedFrom;
        kills.push({ site: `${k.site.point} in ${k.site.task}`, lastCompleted: k.latestCompleted ?? undefined, durable: spec.job.backend !== "memory", resumedFrom: null });
        faults = faults.filter((_f, i) => i !== k.fired);
        continue;
      }
      if (r.code !== 0) throw new Error(`worker process ${processes} exited ${r.code ?? r.signal}: ${r.stderr.slice(-2000)}`);
      result = JSON.parse(fs.readFileSync(path.join(dir, "result.json"), "utf8"));
    }
    if (kills.length) kills[kills.length - 1].resumedFrom = result.startedFrom;
    const tape = tapeFor(spec.feed);
    const committed = readCommittedLines(new NodeFs(), path.join(dir, "out")).map((l, i) => parseCommittedLine(l, path.join(dir, "out"), i + 1));
    const late = new Map(Object.entries(result.late).map(([k, v]) => [k, { quantity: BigInt(v.quantity), count: v.count }]));
    const checks = [
      checkOracle(committed, windowOracle(tape, spec.job.windowMs)),
      checkOnce(committed),
      checkConservation(committed, late, tapeTotals(tape)),
      checkFinished(result),
      checkKills(kills),
    ];
    return { processes, kills, checks, valid: compose(checks), dir };
  } finally {
    if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
