import { FAULT_POINTS, LOSE_POINTS, type FaultPoint, type LosePoint } from "../../engine/checkpoint/faults.ts";
import { FEED_TOXIC_KINDS, type FeedToxic, type FeedToxicKind } from "../binance/toxics.ts";
import type { DiskFault } from "./sim-fs.ts";

/**
 * The one fault model: everything the simulation can do to a run, as plain data. It can be
 * printed, stored in a scenario file, given on the command line, shrunk by fast-check and
 * replayed. The nemesis (nemesis.ts) is the only code that acts on it.
 *
 * - `crash`: at the `occurrence`-th time a task matching `task` passes `point` (counted across
 *   restarts), the task throws, the job fails over in process and every task restarts from the
 *   latest valid checkpoint. Buffered records, pending sink transactions of the failed attempt
 *   and in-flight acks are lost. With `from`, only passages at or after that virtual time (ms,
 *   the kernel clock) count: `crash@task.process#1/from=T` fires at the first passage from T on,
 *   so a crash can be placed by tape time, known before the run (`replay --crash-every`);
 *   `/from=savepoint` counts from the run's configured savepoint or stop-with-savepoint.
 * - `kill`: the whole process dies there (SIGKILL, power loss). Nothing in memory survives; on
 *   a SimFs disk unsynced writes are dropped or torn. A new process resumes from disk.
 * - `slow`: the step at that site takes `ms` more virtual milliseconds (forces timeouts); with
 *   `times`, the next `times - 1` matching passages too (a degraded disk or a GC-bound task for a
 *   while: consecutive checkpoints of that task all overlap their successors); with `then`, the
 *   task that took the spell's last slow step crashes (or the process is killed) at the next
 *   fault point that task passes: the degraded task finally dies (an OOM after GC pressure), while
 *   its overlapping checkpoints are still pending.
 * - `disk`: a fault armed on the simulated disk from the start (sim-fs.ts): ENOSPC, EIO, an fsync
 *   that lies, a bit flip (applied before each restore, to the stored bytes of the first file
 *   whose path contains `path`), and at the next power loss a forced torn write or lost write.
 *   An ENOSPC or EIO may be followed by a death (`then`): at the first fault point at least
 *   `afterMs` virtual ms after the failed call, the task passing it crashes (or the process is
 *   killed). A failing disk and a failing machine come together, and a protocol that acts on a
 *   write before it knows the write succeeded is caught only when a failure follows closely: a
 *   coordinator that told the sinks to commit a checkpoint whose metadata never got written
 *   commits output a restore from the checkpoint before replays.
 * - `lose`: the `occurrence`-th RPC at `point` to or from a task matching `task` is lost (and with
 *   `times`, the next `times - 1` matching ones too: a connection that drops messages for a
 *   while): a trigger that never reaches a source, an acknowledgement that never reaches the
 *   coordinator, a completion or abort notice that never reaches a task (LOSE_POINTS). The job
 *   must still be right: the checkpoint expires, or the next notice stands in for the lost one.
 * - `toxic`: a misbehaving exchange (toxics.ts): duplicates, reorders, drops, disconnects, ...
 * - `skew`: the clock of the source subtasks matching `task` is off (a TaskManager whose NTP
 *   stepped it, or a clock that runs fast or slow): from `fromMs` ms into each process on, it
 *   reads `ms` more (or less) than the kernel's time, and with `driftPpm` it gains that many
 *   millionths per millisecond besides. It changes what the task decides by its own time (when
 *   it emits periodic watermarks, how long it sleeps between polls); data still arrives when it
 *   arrives. One clock per task: the first matching skew of the plan.
 */
export type PointFault = {
  readonly kind: "crash" | "kill";
  readonly point: FaultPoint;
  /** 1-based: the n-th passage of a matching site. */
  readonly occurrence: number;
  /** Substring of the task name ("#1" = subtask 1 of any vertex, "Source" = a source task); absent = any task. */
  readonly task?: string;
  /**
   * Virtual time (ms) before which passages are not counted; absent = from the start.
   * `savepoint`: the moment the run's configuration names for its savepoint or its
   * stop-with-savepoint (a rescale), so that a small occurrence lands on that savepoint's own
   * steps (its trigger, acks, completion, notices and commits); a run that takes none counts from
   * the start. The Nemesis resolves it to a time.
   */
  readonly from?: number | typeof SAVEPOINT_MOMENT;
};

/** The `from` of a fault placed at the run's configured savepoint (`crash@checkpoint.notify#2/from=savepoint`). */
export const SAVEPOINT_MOMENT = "savepoint" as const;
export type SlowFault = {
  readonly kind: "slow"; readonly point: FaultPoint; readonly occurrence: number; readonly task?: string; readonly ms: number;
  /** How many consecutive matching passages are slow, from `occurrence` on (absent = 1). */
  readonly times?: number;
  /** After the last slow step, that task crashes (or the process dies) at its next fault point. */
  readonly then?: "crash" | "kill";
};
export type LoseFault = {
  readonly kind: "lose"; readonly point: LosePoint; readonly occurrence: number; readonly task?: string;
  /** How many consecutive matching messages are lost, from `occurrence` on (absent = 1). */
  readonly times?: number;
};
export type DiskFaultEntry = {
  readonly kind: "disk";
  readonly disk: DiskFault;
  /** ENOSPC and EIO only: after the call fails, a task crashes (or the process dies)... */
  readonly then?: "crash" | "kill";
  /** ...at the first fault point at least this many virtual ms later (absent = the next one). */
  readonly afterMs?: number;
};

/** The disk faults that fail a call, and so can be followed by a death (`then`). */
export function failsACall(d: DiskFault): boolean {
  return d.kind === "enospc" || d.kind === "eio";
}
export type ToxicFault = { readonly kind: "toxic"; readonly toxic: FeedToxic };
export type SkewFault = {
  readonly kind: "skew";
  /** Substring of the source task's name; absent = every source subtask. */
  readonly task?: string;
  /** The clock's offset (signed ms) from `fromMs` on. */
  readonly ms: number;
  /** Virtual ms into the process at which the clock steps (absent = from its start). */
  readonly fromMs?: number;
  /** From `fromMs` on the clock also drifts by this many millionths (signed; -999999..999999). */
  readonly driftPpm?: number;
};

export type Fault = PointFault | SlowFault | LoseFault | DiskFaultEntry | ToxicFault | SkewFault;
export type FaultKind = Fault["kind"];
export const FAULT_KINDS: readonly FaultKind[] = ["crash", "kill", "slow", "lose", "disk", "toxic", "skew"];
export type FaultPlan = readonly Fault[];

/** A kind label for counting draws: "crash", "disk:torn", "toxic:reorder", ... */
export function faultLabel(f: Fault): string {
  return f.kind === "disk" ? `disk:${f.disk.kind === "eio" ? `eio-${f.disk.op}` : f.disk.kind}` : f.kind === "toxic" ? `toxic:${f.toxic.kind}` : f.kind;
}

/** A spec or command-line fault that does not parse: a user error (exit 2) naming the culprit. */
export class FaultSyntaxError extends Error {
  override readonly name = "FaultSyntaxError";
  readonly exitCode = 2;
}

const taskPart = (t?: string) => (t === undefined ? "" : `[${t}]`);

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case "crash": case "kill": return `${f.kind}@${f.point}#${f.occurrence}${taskPart(f.task)}${f.from === undefined ? "" : `/from=${f.from}`}`;
    case "lose": return `lose@${f.point}#${f.occurrence}${taskPart(f.task)}${f.times === undefined ? "" : `*${f.times}`}`;
    case "slow": return `slow@${f.point}#${f.occurrence}${taskPart(f.task)}+${f.ms}ms${f.times === undefined ? "" : `*${f.times}`}${f.then === undefined ? "" : `>${f.then}`}`;
    case "skew": return `skew${taskPart(f.task)}${f.ms < 0 ? "-" : "+"}${Math.abs(f.ms)}ms${f.fromMs === undefined ? "" : `@${f.fromMs}ms`}${f.driftPpm === undefined ? "" : `~${f.driftPpm}ppm`}`;
    case "toxic": return `toxic:${f.toxic.kind}${Object.entries(f.toxic).filter(([k]) => k !== "kind").map(([k, v]) => `/${k}=${v}`).join("")}`;
    case "disk": {
      const d = f.disk;
      const at = d.path === undefined ? "" : `@${d.path}`;
      const then = f.then === undefined ? "" : `>${f.then}${f.afterMs === undefined ? "" : `+${f.afterMs}ms`}`;
      switch (d.kind) {
        case "enospc": return `disk:enospc${at}${d.afterBytes === undefined ? "" : `+${d.afterBytes}`}${then}`;
        case "eio": return `disk:eio-${d.op}${at}${d.occurrence === undefined ? "" : `#${d.occurrence}`}${d.times === undefined ? "" : `*${d.times}${d.every === undefined ? "" : `/${d.every}`}`}${then}`;
        case "bitflip": return `disk:bitflip${at}${d.offset === undefined ? "" : `+${d.offset}`}${d.bit === undefined ? "" : `.${d.bit}`}`;
        case "lying-fsync": case "torn": case "lost": return `disk:${d.kind}${at}`;
      }
    }
  }
}

/** Paths in a disk fault: no separators of the plan syntax. */
const PATH = "([^\\s@#+*,>\\[\\]]+)";
const POINT_RE = /^(crash|kill|slow)@([a-z.-]+)#(\d+)(?:\[([^\]]+)\])?(?:\+(\d+)ms(?:\*(\d+))?(?:>(crash|kill))?)?$/;
const LOSE_RE = /^lose@([a-z.-]+)#(\d+)(?:\[([^\]]+)\])?(?:\*(\d+))?$/;
const SKEW_RE = /^skew(?:\[([^\]]+)\])?([+-]\d+)ms(?:@(\d+)ms)?(?:~(-?\d+)ppm)?$/;
const DISK_RE = new RegExp(`^disk:(enospc|eio-read|eio-write|eio-fsync|bitflip|lying-fsync|torn|lost)(?:@${PATH})?(?:#(\\d+))?(?:\\*(\\d+)(?:/(\\d+))?)?(?:\\+(\\d+))?(?:\\.(\\d))?(?:>(crash|kill)(?:\\+(\\d+)ms)?)?$`);
const TOXIC_PARAMS: Record<FeedToxicKind, readonly string[]> = {
  duplicate: ["probability"], drop: ["probability"], malformed: ["probability"], disconnect: ["probability"], "rest-5xx": ["probability"],
  reorder: ["probability", "window"], stall: ["probability", "durationMs"], "server-restart": ["probability", "downMs"],
  latency: ["meanMs", "jitterMs"], "rest-429": ["probability", "retryAfterMs"], "rest-timeout": ["probability", "ms"],
};

function point(name: string, s: string): FaultPoint {
  if (!(FAULT_POINTS as readonly string[]).includes(name)) throw new FaultSyntaxError(`unknown fault point ${JSON.stringify(name)} in ${JSON.stringify(s)}; known: ${FAULT_POINTS.join(", ")}`);
  return name as FaultPoint;
}

/** `crash@checkpoint.complete#2[#1]`, `disk:torn@chk-2/_metadata`, `toxic:reorder/probability=0.1/window=3` -> Fault. */
export function parseFault(text: string): Fault {
  const s = text.trim();
  // A crash or kill may end in `/from=<virtual ms>` or `/from=savepoint`; the rest is the point syntax.
  const from = /^((?:crash|kill)@.*)\/from=(\d{1,15}|savepoint)$/.exec(s);
  let m = POINT_RE.exec(from ? from[1] : s);
  if (m) {
    const [, kind, p, occ, task, ms, times, then] = m;
    const occurrence = Number(occ);
    if (occurrence < 1) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: occurrence must be >= 1`);
    if ((kind === "slow") !== (ms !== undefined)) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: only slow@... takes +<ms>ms, and it needs it`);
    const base = { point: point(p, s), occurrence, ...(task !== undefined ? { task } : {}), ...(from ? { from: from[2] === SAVEPOINT_MOMENT ? SAVEPOINT_MOMENT : Number(from[2]) } : {}) };
    if (times !== undefined && Number(times) < 1) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: *<times> must be >= 1`);
    return kind === "slow" ? { kind, ...base, ms: Number(ms), ...(times !== undefined ? { times: Number(times) } : {}), ...(then !== undefined ? { then: then as "crash" | "kill" } : {}) } : { kind: kind as "crash" | "kill", ...base };
  }
  m = LOSE_RE.exec(s);
  if (m) {
    const [, p, occ, task, times] = m;
    if (!(LOSE_POINTS as readonly string[]).includes(p)) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: a message can be lost only at ${LOSE_POINTS.join(", ")}`);
    if (Number(occ) < 1 || (times !== undefined && Number(times) < 1)) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: occurrence and *<times> must be >= 1`);
    return { kind: "lose", point: p as LosePoint, occurrence: Number(occ), ...(task !== undefined ? { task } : {}), ...(times !== undefined ? { times: Number(times) } : {}) };
  }
  m = SKEW_RE.exec(s);
  if (m) {
    const [, task, ms, from, ppm] = m;
    if (ppm !== undefined && !(Math.abs(Number(ppm)) < 1_000_000)) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: ~<ppm>ppm must be within -999999..999999 (a clock that runs backwards is not a clock)`);
    return { kind: "skew", ...(task !== undefined ? { task } : {}), ms: Number(ms) || 0, ...(from !== undefined ? { fromMs: Number(from) } : {}), ...(ppm !== undefined ? { driftPpm: Number(ppm) } : {}) };
  }
  m = DISK_RE.exec(s);
  if (m) {
    const [, k, p, occ, times, every, num, bit, then, after] = m;
    const at = p !== undefined ? { path: p } : {};
    if (times !== undefined && (k.slice(0, 4) !== "eio-" || occ === undefined || Number(times) < 1 || (every !== undefined && Number(every) < 1)))
      throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: only disk:eio-<op>#<n> takes *<times>[/<every>], both >= 1`);
    const disk = ((): DiskFault => {
      if (k.startsWith("eio-")) return { kind: "eio", op: k.slice(4) as "read" | "write" | "fsync", ...at, ...(occ !== undefined ? { occurrence: Number(occ) } : {}), ...(times !== undefined ? { times: Number(times) } : {}), ...(every !== undefined ? { every: Number(every) } : {}) };
      if (k === "enospc") return { kind: "enospc", ...at, ...(num !== undefined ? { afterBytes: Number(num) } : {}) };
      if (k === "bitflip") {
        if (p === undefined) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: disk:bitflip needs @<path>`);
        return { kind: "bitflip", path: p, ...(num !== undefined ? { offset: Number(num) } : {}), ...(bit !== undefined ? { bit: Number(bit) } : {}) };
      }
      return { kind: k as "lying-fsync" | "torn" | "lost", ...at };
    })();
    if (then === undefined) return { kind: "disk", disk };
    if (!failsACall(disk)) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: only disk:enospc and disk:eio-<op> fail a call, so only they take >crash or >kill`);
    return { kind: "disk", disk, then: then as "crash" | "kill", ...(after !== undefined ? { afterMs: Number(after) } : {}) };
  }
  if (s.startsWith("toxic:")) {
    const [kind, ...params] = s.slice(6).split("/");
    if (!(FEED_TOXIC_KINDS as readonly string[]).includes(kind)) throw new FaultSyntaxError(`unknown toxic kind ${JSON.stringify(kind)} in ${JSON.stringify(s)}; known: ${FEED_TOXIC_KINDS.join(", ")}`);
    const want = TOXIC_PARAMS[kind as FeedToxicKind];
    const toxic: Record<string, unknown> = { kind };
    for (const kv of params) {
      const [k, v] = kv.split("=");
      if (!want.includes(k) || v === undefined || !Number.isFinite(Number(v))) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: bad parameter ${JSON.stringify(kv)}; toxic ${kind} takes ${want.map((w) => `/${w}=<number>`).join("")}`);
      toxic[k] = Number(v);
    }
    for (const k of want) if (!(k in toxic)) throw new FaultSyntaxError(`fault ${JSON.stringify(s)}: toxic ${kind} needs /${k}=<number>`);
    return { kind: "toxic", toxic: toxic as FeedToxic };
  }
  const kind = /^([a-z-]+)[@:]/.exec(s)?.[1];
  if (kind !== undefined && !(FAULT_KINDS as readonly string[]).includes(kind)) throw new FaultSyntaxError(`unknown fault kind ${JSON.stringify(kind)} in ${JSON.stringify(s)}; known: ${FAULT_KINDS.join(", ")}`);
  throw new FaultSyntaxError(`cannot parse fault ${JSON.stringify(s)}: expected crash|kill@<point>#<n>[<task>], slow@<point>#<n>[<task>]+<ms>ms, lose@<point>#<n>[<task>][*<times>], skew[<task>]±<ms>ms[@<from>ms][~<ppm>ppm], disk:<kind>[@<path>]...[>crash|kill[+<ms>ms]] or toxic:<kind>/<param>=<v>...`);
}

export function describePlan(plan: FaultPlan): string {
  return plan.length ? plan.map(describeFault).join(", ") : "no faults";
}

/** The inverse of describePlan ("no faults" and "" are the empty plan). */
export function parsePlan(text: string): Fault[] {
  const t = text.trim();
  if (t === "" || t === "no faults") return [];
  return t.split(",").map(parseFault);
}

/**
 * Validates a plan read from a scenario file (JSON): every fault must be one the model knows,
 * exactly as parseFault would build it. Unknown kinds and points are user errors naming them.
 */
export function validatePlan(plan: unknown, where: string): Fault[] {
  if (!Array.isArray(plan)) throw new FaultSyntaxError(`${where}: faults must be an array`);
  return plan.map((f, i) => {
    if (typeof f === "string") {
      try {
        return parseFault(f);
      } catch (e) {
        throw new FaultSyntaxError(`${where}[${i}]: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (typeof f !== "object" || f === null) throw new FaultSyntaxError(`${where}: faults[${i}] must be an object or a fault string`);
    const kind = (f as { kind?: unknown }).kind;
    if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind)) throw new FaultSyntaxError(`${where}: faults[${i}]: unknown fault kind ${JSON.stringify(kind)}; known: ${FAULT_KINDS.join(", ")}`);
    try {
      const parsed = parseFault(describeFault(f as Fault));
      if (canonical(parsed) !== canonical(f)) throw new FaultSyntaxError(`unexpected or missing fields (expected ${JSON.stringify(parsed)})`);
      return parsed;
    } catch (e) {
      throw new FaultSyntaxError(`${where}: faults[${i}]: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

/** JSON with sorted keys: field order in a scenario file does not matter. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}
