import { FAULT_POINTS, type FaultPoint } from "../../engine/checkpoint/faults.ts";

/**
 * A fault plan is plain data: it can be printed, stored in a scenario file, shrunk by
 * fast-check and replayed. The nemesis is the only code that acts on it.
 *
 * What a kill can do: the process dies at that point. Nothing in memory survives — pending
 * sink transactions, JobManager-held checkpoints, buffered records; on a SimFs disk, writes not
 * yet fsynced are dropped or torn. A new process resumes from the checkpoint storage on disk.
 *
 * What an in-process crash can do: at the `occurrence`-th time a task matching `task`
 * passes `point` (counted across restarts), the task throws, the job fails over, and every
 * task restarts from the latest valid checkpoint. Records buffered in memory, pending
 * (uncommitted) sink transactions of the failed attempt and in-flight acks are lost.
 */
export type Fault = {
  /** crash: the task fails and the job fails over in process; kill: the whole process dies (SIGKILL) and a new one resumes from disk. */
  readonly kind: "crash" | "kill";
  readonly point: FaultPoint;
  /** 1-based: the n-th passage of a matching site. */
  readonly occurrence: number;
  /** Substring of the task name ("#1" = subtask 1 of any vertex, "Source" = a source task); absent = any task. */
  readonly task?: string;
};

export type FaultPlan = readonly Fault[];

export function describeFault(f: Fault): string {
  return `${f.kind}@${f.point}#${f.occurrence}${f.task ? `[${f.task}]` : ""}`;
}

/** `crash@checkpoint.complete#2[#1]` -> Fault (the CLI's --fault syntax). */
export function parseFault(s: string): Fault {
  const m = /^(crash|kill)@([a-z.-]+)#(\d+)(?:\[([^\]]+)\])?$/.exec(s.trim());
  if (!m) throw new Error(`cannot parse fault ${JSON.stringify(s)}: expected crash@<point>#<occurrence>[<task>] or kill@...`);
  const kind = m[1] as Fault["kind"];
  const point = m[2] as FaultPoint;
  if (!(FAULT_POINTS as readonly string[]).includes(point)) throw new Error(`unknown fault point ${JSON.stringify(m[2])}; known: ${FAULT_POINTS.join(", ")}`);
  const occurrence = Number(m[3]);
  if (occurrence < 1) throw new Error(`fault ${JSON.stringify(s)}: occurrence must be >= 1`);
  return m[4] ? { kind, point, occurrence, task: m[4] } : { kind, point, occurrence };
}
