import * as fs from "node:fs";
import * as path from "node:path";
import { NodeFs } from "../../engine/state/fs.ts";
import type { JobExecutionResult } from "../../engine/api/environment.ts";
import type { RunOptions } from "../../scenarios/run-scenario.ts";
import type { ScenarioSpec } from "../../scenarios/spec.ts";
import { int, str, UsageError, type ParsedArgs } from "../args.ts";
import { outputDir } from "../paths.ts";

/**
 * `--checkpoint-dir DIR`, `--from DIR/.../chk-<n>`, `--resume` for `run` and `replay`: Flink's
 * `state.checkpoints.dir` and `flink run -s <path>`. DIR is the job's durable home on the real
 * disk: checkpoints in DIR/checkpoints/job/chk-<n>, the 2PC sink's output in DIR/out. A fresh run
 * empties both; --resume starts from the newest valid checkpoint there, --from from the one named
 * (or, if that one is unreadable, the newest valid one before it). Any --parallelism may be given.
 */
export const RESUME_VALUES = ["checkpoint-dir", "from", "kill-at"] as const;
export const RESUME_BOOLEANS = ["resume"] as const;

export interface ResumePlan {
  dir: string;
  from?: string;
  resume: boolean;
  /** Test hook: SIGKILL this process at the N-th record processed (a real kill, to try --resume on). */
  killAt?: number;
}

export function resumeFlags(a: ParsedArgs): ResumePlan | undefined {
  const dir = str(a, "checkpoint-dir");
  const from = str(a, "from");
  const resume = a.flags.has("resume");
  const killAt = str(a, "kill-at") === undefined ? undefined : int(a, "kill-at", 0, 1);
  if (!dir) {
    if (from || resume || killAt) throw new UsageError(`--${from ? "from" : resume ? "resume" : "kill-at"} needs --checkpoint-dir DIR (where the job keeps its checkpoints and output)`);
    return undefined;
  }
  if (from && resume) throw new UsageError("give --from DIR/chk-<n> or --resume, not both");
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UsageError(`--checkpoint-dir: ${dir} is not a directory`);
  // Not mkdirSync(recursive): under /proc it never returned (--checkpoint-dir /proc/x hung the CLI).
  outputDir(dir, "--checkpoint-dir");
  if (from) {
    if (!/[/\\]chk-\d+[/\\]?$/.test(from)) throw new UsageError(`--from: ${from} is not a checkpoint directory (.../chk-<n>)`);
    if (!fs.existsSync(from) || !fs.statSync(from).isDirectory()) throw new UsageError(`--from: ${from}: no such checkpoint directory`);
  }
  if (resume && !fs.existsSync(path.join(dir, "checkpoints"))) throw new UsageError(`--resume: ${dir} holds no checkpoints (run once with --checkpoint-dir ${dir} first)`);
  return { dir: path.resolve(dir), from: from && path.resolve(from), resume, killAt };
}

/** The spec on a real, durable disk: checkpoints must outlive the process, so the backend is file unless kv was asked for. */
export function durableSpec(spec: ScenarioSpec, a: ParsedArgs): ScenarioSpec {
  if (str(a, "backend") === "memory") throw new UsageError("--checkpoint-dir needs --backend file or kv: the memory backend keeps checkpoints in the process, which a kill loses");
  const backend = spec.job.backend === "memory" ? "file" : spec.job.backend;
  const faults = [...spec.faults];
  const killAt = str(a, "kill-at") === undefined ? undefined : int(a, "kill-at", 0, 1);
  if (killAt) faults.push({ kind: "kill", point: "task.process", occurrence: killAt });
  // Keep a few checkpoints, so one found corrupt on resume leaves an older one to start from.
  return { ...spec, faults, job: { ...spec.job, backend, retained: Math.max(spec.job.retained, 3) } };
}

/**
 * Runs the job; a start point with no readable checkpoint is the user's input being unusable
 * (exit 2, each skipped checkpoint with its reason), not an internal error.
 */
export function startingFrom<T>(plan: ResumePlan | undefined, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (plan && (e as Error)?.name === "NoValidCheckpointError") {
      throw new UsageError(`${plan.from ? `--from ${plan.from}` : `--resume ${plan.dir}`}: ${(e as Error).message}`);
    }
    throw e;
  }
}

/** Runner options for the plan; a fresh run empties the previous run's output so nothing is counted twice. */
export function resumeOptions(plan: ResumePlan): RunOptions {
  const continuing = plan.resume || plan.from !== undefined;
  if (!continuing) fs.rmSync(path.join(plan.dir, "out"), { recursive: true, force: true });
  const kvLocalDir = path.join(plan.dir, "kv-local");
  fs.mkdirSync(kvLocalDir, { recursive: true });
  return {
    fs: new NodeFs(),
    root: plan.dir,
    kvLocalDir,
    // resume also keeps --from's directory from being cleared before it is read.
    resume: continuing,
    fromSavepoint: plan.from,
    onKill: () => {
      process.kill(process.pid, "SIGKILL");
      for (;;); // SIGKILL arrives asynchronously: make no progress until it does
    },
  };
}

/** Lines for the log: where the job started and every checkpoint skipped on the way, with the reason. */
export function startLines(r: JobExecutionResult, plan: ResumePlan): string[] {
  const out: string[] = [];
  const sf = r.startedFrom;
  for (const s of sf?.skipped ?? []) out.push(`skipped checkpoint ${s.checkpointId}: ${s.reason}`);
  for (const ev of r.restores) for (const s of ev.skipped) out.push(`restore at attempt ${ev.attempt} skipped checkpoint ${s.checkpointId}: ${s.reason}`);
  const chk = path.join(plan.dir, "checkpoints", "job");
  if (sf) out.push(`started from checkpoint ${sf.checkpointId} (${path.join(chk, `chk-${sf.checkpointId}`)})`);
  else if (plan.resume || plan.from) out.push(`no valid checkpoint to start from in ${chk}: started from the beginning`);
  out.push(`checkpoints in ${chk}; output in ${path.join(plan.dir, "out")}`);
  return out;
}

/** The resume flags as given, for the replay line: a run started from a checkpoint replays from it. */
export function resumeArgs(a: ParsedArgs): string[] {
  const out: string[] = [];
  for (const k of RESUME_VALUES) {
    const v = a.flags.get(k);
    if (typeof v === "string") out.push(`--${k}`, v);
  }
  for (const k of RESUME_BOOLEANS) if (a.flags.has(k)) out.push(`--${k}`);
  return out;
}
