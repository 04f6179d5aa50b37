/**
 * Named places where a fault can be injected. Scenario files and reports use these names,
 * so they are stable (DESIGN.md §8).
 */
export const FAULT_POINTS = [
  "task.process",
  "checkpoint.trigger",
  "checkpoint.source-snapshot",
  "checkpoint.alignment",
  "checkpoint.sync-snapshot",
  "checkpoint.async-write",
  "checkpoint.ack",
  "checkpoint.metadata",
  "checkpoint.complete",
  "checkpoint.notify",
  "sink.pre-commit",
  "sink.commit",
  "restore",
  "fs.write",
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

/**
 * `fs.write`: a call that changes the simulated disk (write, append, mkdir, rename, unlink,
 * rmrf, fsync, fsyncDir), just before it happens; the site's task is the call's path, so
 * `kill@fs.write#3[_metadata]` kills the process before the third such call on a `_metadata`
 * path. A kill there falls between two calls of one write sequence (a sink's compaction, a
 * checkpoint's metadata written and renamed), which kills at the engine's own points never do.
 * Only process kills are drawn there: a task crash is a task's, a file-system call the process's.
 */
export const FS_WRITE: FaultPoint = "fs.write";

/** Where a task may crash: every point but `fs.write`. */
export const CRASH_POINTS: readonly FaultPoint[] = FAULT_POINTS.filter((p) => p !== FS_WRITE);

/**
 * The points where the engine asks for a slowdown (FaultInjector.slowdown): a slow step
 * anywhere else would never take effect, so fault arbitraries draw slow steps only here.
 * `checkpoint.notify` is a task receiving the notice that a checkpoint completed: slow there,
 * the notice reaches that task late (a slow RPC to its TaskManager), and the task works on
 * meanwhile, taking the next checkpoints with the completed one still uncommitted.
 */
export const SLOW_POINTS = ["checkpoint.alignment", "checkpoint.sync-snapshot", "checkpoint.async-write", "checkpoint.notify"] as const satisfies readonly FaultPoint[];

/**
 * The RPCs a lost message can hit (FaultInjector.lose), each one Flink's checkpoint protocol
 * survives losing: a lost trigger (to one source task) or a lost acknowledgement (from one task)
 * leaves its checkpoint pending until it expires; a lost completion notice is made up for by the
 * next one, since a task acts on every checkpoint up to the one it hears of (a sink commits every
 * transaction pre-committed up to it: CheckpointListener's contract). `checkpoint.notify` also
 * loses abort notices (Flink sends them best-effort too): a task that aligns the aborted
 * checkpoint goes on until a newer barrier overtakes it.
 *
 * The notices tasks finish on are never lost: a stop-with-savepoint's (the job ends on it, and in
 * Flink too nothing would come in its place) and a final checkpoint's. In Flink a task left
 * waiting for the final checkpoint's notice is triggered directly by the next checkpoint, whose
 * plan holds only the tasks still running (FLIP-147); here a checkpoint always goes through the
 * sources, which have finished by then, so it could only expire.
 */
export const LOSE_POINTS = ["checkpoint.trigger", "checkpoint.ack", "checkpoint.notify"] as const satisfies readonly FaultPoint[];
export type LosePoint = (typeof LOSE_POINTS)[number];

export interface FaultSite {
  readonly point: FaultPoint;
  /** Task name with subtask, e.g. "Window(sum)#1"; "coordinator" for coordinator points. */
  readonly task: string;
  readonly checkpointId?: number;
  readonly time: number;
}

/** Thrown at a fault point to crash the task there, as a real task failure would. */
export class InjectedCrash extends Error {
  override readonly name = "InjectedCrash";
  constructor(readonly site: FaultSite, readonly faultIndex: number) {
    super(`injected crash at ${site.point} in ${site.task}${site.checkpointId !== undefined ? ` (checkpoint ${site.checkpointId})` : ""}`);
  }
}

/**
 * Thrown to simulate the death of the whole process (SIGKILL, power loss): no failover happens
 * in this process, because nothing in it survives. The error leaves `execute`, and whoever
 * plays the operator starts a new process that resumes from what is on disk.
 */
export class ProcessKilled extends Error {
  override readonly name = "ProcessKilled";
  constructor(readonly site: FaultSite, readonly faultIndex: number) {
    super(`process killed at ${site.point} in ${site.task}${site.checkpointId !== undefined ? ` (checkpoint ${site.checkpointId})` : ""}`);
  }
}

/**
 * The engine calls `check` at every fault point; the injector (sim/faults' nemesis) decides,
 * from its plan alone, whether to throw there. The engine never decides to fail on its own.
 */
export interface FaultInjector {
  /** Called at every named point; throws InjectedCrash or ProcessKilled to fail there. */
  check(site: FaultSite): void;
  /** A slow task: extra virtual milliseconds the step at this site takes (0 = none). Forces timeouts. */
  slowdown?(site: FaultSite): number;
  /**
   * A lost RPC (a TaskManager's connection dropping one message): whether the message arriving at
   * `site` (a LOSE_POINTS point; the task it goes to or comes from) is lost instead of delivered.
   */
  lose?(site: FaultSite): boolean;
  /**
   * A source subtask's own clock, asked once when the task is deployed: undefined (no skew
   * planned for it) leaves the task on the kernel's time at no cost. A skewed TaskManager clock
   * changes what the task decides by its own time (periodic watermark emission, how long it
   * sleeps between polls), never the kernel's global order nor when data arrives.
   */
  clockOf?(task: string): TaskClock | undefined;
}

/** A task's view of processing time, as a function of the kernel's time. */
export interface TaskClock {
  /** What the task reads as the time when the kernel's time is `now`. */
  local(now: number): number;
  /** The earliest kernel time >= `now` at which the task's clock reads `local` or later (to schedule a wake-up). */
  kernelAt(local: number, now: number): number;
}

