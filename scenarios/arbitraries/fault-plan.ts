import fc from "fast-check";
import { CRASH_POINTS, FAULT_POINTS, FS_WRITE, LOSE_POINTS, SLOW_POINTS, type FaultPoint, type LosePoint } from "../../engine/checkpoint/faults.ts";
import { failsACall, type Fault, type FaultKind } from "../../sim/faults/fault-plan.ts";
import { targetKey } from "../../sim/faults/nemesis.ts";
import type { DiskFault } from "../../sim/faults/sim-fs.ts";
import { feedFaultPlan } from "../../sim/binance/toxics-arbitrary.ts";
import { FEED_TOXIC_KINDS } from "../../sim/binance/toxics.ts";

export interface FaultPlanConstraints {
  /** Points to draw from (default: all). */
  points?: readonly FaultPoint[];
  minFaults?: number;
  maxFaults?: number;
  /**
   * How often each point is passed in a fault-free run: occurrences are drawn within it. Where it
   * also has `targetKey(point, target)` (a calibration that counted targets), a fault aimed at
   * that target draws within the passages it matches, not the point's total.
   */
  passages: ReadonlyMap<string, number>;
  /** Task-name substrings a fault may target ("#0", "Source", ...); a fault may also target any task. */
  tasks?: readonly string[];
  /** Fault kinds to draw (default: in-process crashes only). */
  kinds?: readonly FaultKind[];
  /** Disk fault kinds to draw when "disk" is among the kinds (default: those a correct engine survives). */
  diskKinds?: readonly DiskKind[];
  /** The step time a slow fault adds is drawn up to this (default 2 × the checkpoint timeout of the scenario, or 20 min). */
  maxSlowMs?: number;
  /** A clock skew steps within this many virtual ms of the process's start (default 120 s: the feed's span). */
  skewWithinMs?: number;
}

export type DiskKind = "enospc" | "eio" | "torn" | "lost" | "bitflip" | "lying-fsync";
/**
 * Disk faults a correct engine must survive: a full disk or a failing write (transient: healed
 * after the first restore), and the loss or tearing of data that was never fsynced. A lying
 * fsync or a bit flip in stored bytes can lose acknowledged data; they belong to teeth runs.
 */
export const ALL_DISK_KINDS: readonly DiskKind[] = ["enospc", "eio", "torn", "lost", "bitflip", "lying-fsync"];
export const SURVIVABLE_DISK_KINDS: readonly DiskKind[] = ["enospc", "eio", "torn", "lost"];

// Substrings of the paths a targeted disk fault or kill counts: "/out" takes in the sink's
// directory itself, whose fsync is what makes a committed file visible after a power loss.
export const DISK_PATHS = ["_metadata", "chk-", "/out", "_pending", "shared"];

/** How often the calibration saw a point passed by a task (or path) containing `target`; undefined where it did not count targets. */
type Passed = (point: FaultPoint, target: string) => number | undefined;

/**
 * `deaths`: the kinds of death the plan may draw. A full disk or a failing call is followed by
 * one (a task crash, or the process killed) in half the draws: at once, or within 30 s. A failing
 * disk and a failing machine come together, and what the protocol did between the two is checked.
 */
function diskFault(kinds: readonly DiskKind[], deaths: readonly ("crash" | "kill")[], passed: Passed): fc.Arbitrary<Fault> {
  const path = fc.option(fc.constantFrom(...DISK_PATHS), { nil: undefined });
  const at = (p: string | undefined) => (p === undefined ? {} : { path: p });
  // The n-th failing call among those on the path: an aimed fault draws n within about how many
  // such calls the calibration made there (a write or an fsync is about one in three disk calls on
  // a path: `_metadata` is written, fsynced and renamed), or it would seldom fire (an fsync of
  // `_metadata` fired in 28 % of runs with n up to 40). Reads come at restores only: a few.
  // Unaimed, or a path the calibration never wrote: up to 40.
  const calls = (p: string | undefined, op: "read" | "write" | "fsync") => {
    if (op === "read") return 4;
    const n = p === undefined ? 0 : passed(FS_WRITE, p) ?? 0;
    return n === 0 ? 40 : Math.min(40, Math.max(2, Math.ceil(n / 3)));
  };
  const one = (k: DiskKind): fc.Arbitrary<DiskFault> => {
    switch (k) {
      // Byte budgets on three scales: the bytes written on one path in a run range from a few KB
      // (`_metadata`) to a few hundred (every file); drawn up to 200 KB alone, most never ran out.
      case "enospc": return fc.record({ p: path, afterBytes: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 200_000 })) }).map(({ p, afterBytes }) => ({ kind: "enospc", ...at(p), afterBytes }));
      // Half the I/O errors are intermittent: a few more calls fail, spaced up to a share of the
      // run's calls apart, so that checkpoints complete between failures. A job that tolerates N
      // failed checkpoints must count only those in a row; one-off errors never show the difference.
      case "eio": return fc.record({ p: path, op: fc.constantFrom<"read" | "write" | "fsync">("write", "fsync", "read") })
        .chain(({ p, op }) => fc.record({
          occurrence: fc.integer({ min: 1, max: calls(p, op) }),
          again: fc.option(fc.record({ times: fc.integer({ min: 2, max: 4 }), every: fc.integer({ min: 1, max: calls(p, op) }) }), { nil: undefined, freq: 2 }),
        }).map(({ occurrence, again }): DiskFault => ({ kind: "eio", op, ...at(p), occurrence, ...again })));
      case "bitflip": return fc.record({ p: fc.constantFrom("_metadata", "chk-"), offset: fc.integer({ min: 0, max: 64 }), bit: fc.integer({ min: 0, max: 7 }) }).map(({ p, offset, bit }) => ({ kind: "bitflip", path: p, offset, bit }));
      case "lying-fsync": case "torn": case "lost": return path.map((p) => ({ kind: k, ...at(p) }));
    }
  };
  const death = deaths.length
    ? fc.option(fc.record({ then: fc.constantFrom(...deaths), afterMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30_000 })) }), { nil: undefined, freq: 2 })
    : fc.constant(undefined);
  return fc.constantFrom(...kinds).chain(one).chain((disk) => (failsACall(disk) ? death : fc.constant(undefined)).map((d): Fault => {
    if (d === undefined) return { kind: "disk", disk };
    // 0 ms is written as no delay at all (`>crash`), as the text form reads it back.
    return { kind: "disk", disk, then: d.then, ...(d.afterMs > 0 ? { afterMs: d.afterMs } : {}) };
  }));
}

function withDefaults(c: FaultPlanConstraints) {
  const r = { passages: c.passages, points: c.points ?? FAULT_POINTS, minFaults: c.minFaults ?? 1, maxFaults: c.maxFaults ?? 3, tasks: c.tasks ?? [], kinds: c.kinds ?? (["crash"] as const), diskKinds: c.diskKinds ?? SURVIVABLE_DISK_KINDS, maxSlowMs: c.maxSlowMs ?? 1_200_000, skewWithinMs: c.skewWithinMs ?? 120_000 };
  if (r.kinds.length === 0) throw new RangeError("faultPlan: kinds must not be empty");
  if (r.minFaults < 0 || r.maxFaults < r.minFaults) throw new RangeError(`faultPlan: need 0 <= minFaults <= maxFaults, got ${r.minFaults}, ${r.maxFaults}`);
  if (r.points.length === 0) throw new RangeError("faultPlan: points must not be empty");
  return r;
}

/**
 * Fault plans for one scenario: a few faults of the allowed kinds, each crash, kill or slow step
 * at a point the run really passes. Points never reached by the fault-free run (e.g. `restore`
 * before any failure) get a small range, since an earlier fault can make them reachable.
 * Shrinks toward fewer faults, earlier occurrences and "any task".
 */
export function faultPlan(c: FaultPlanConstraints): fc.Arbitrary<Fault[]> {
  const r = withDefaults(c);
  // A slow step takes effect only where the engine asks for a slowdown: drawn elsewhere it is a no-op run.
  const slowPoints = r.points.filter((p) => (SLOW_POINTS as readonly FaultPoint[]).includes(p));
  // A file-system call is the process's, not a task's: only kills are drawn there, and a third of
  // them, since every write sequence (a checkpoint's commit, a sink's compaction) must survive a
  // kill between any two of its calls, and there are hundreds of such calls in a run.
  const enginePoints = r.points.filter((p) => CRASH_POINTS.includes(p));
  const pointOf = (kind: "crash" | "kill" | "slow"): fc.Arbitrary<FaultPoint> => {
    if (kind === "slow" && slowPoints.length) return fc.constantFrom(...slowPoints);
    if (!r.points.includes(FS_WRITE) || enginePoints.length === 0) return fc.constantFrom(...r.points);
    if (kind === "crash") return fc.constantFrom(...enginePoints);
    return fc.oneof({ arbitrary: fc.constantFrom(...enginePoints), weight: 2 }, { arbitrary: fc.constant(FS_WRITE), weight: 1 });
  };
  const passed: Passed = (point, target) => r.passages.get(targetKey(point, target));
  // A fault aimed at one task (or path) counts only its passages: drawn within the point's
  // total, most aimed faults would never fire (a kill aimed at `_metadata` matches 54 of the
  // swarm calibration's 430 disk calls). A target the calibration never passed (a fourth
  // source subtask, incremental state's `shared`) may exist in the run's own configuration:
  // it keeps the point's total.
  const maxFor = (point: FaultPoint, task: string | undefined) => Math.max(2, (task === undefined ? 0 : passed(point, task) ?? 0) || (r.passages.get(point) ?? 2));
  const subtask = (t: string) => /^#\d+$/.test(t);
  // What a fault at `point` may aim at. At `fs.write` the site's "task" is the call's path: every
  // path kind, each of which some configuration writes. Elsewhere a task the calibration counted
  // and never saw pass the point is left out (a window task at the coordinator's trigger, a source
  // at alignment: such a fault never fires), except a subtask index (`#3`) where other subtasks
  // pass, since the run's own parallelism may create it.
  const targetsAt = (point: FaultPoint): readonly string[] => {
    if (point === FS_WRITE) return DISK_PATHS;
    const count = (t: string) => passed(point, t);
    if (!r.tasks.some((t) => count(t) !== undefined)) return r.tasks;
    const subtasksPass = r.tasks.some((t) => subtask(t) && count(t)! > 0);
    return r.tasks.filter((t) => count(t)! > 0 || (subtasksPass && subtask(t)));
  };
  const atPoint = (kind: "crash" | "kill" | "slow") => pointOf(kind).chain((point) => {
    const targets = targetsAt(point);
    const aimed = targets.length ? fc.option(fc.constantFrom(...targets), { nil: undefined, freq: 2 }) : fc.constant(undefined);
    // Slow steps on three scales: a little (reorders acks), checkpoints that overlap the next one
    // (what maxConcurrent > 1 is for), and past the checkpoint timeout (expiry).
    const ms = fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 5_000, max: 60_000 }), fc.integer({ min: 1, max: r.maxSlowMs }));
    // A slow spell (a degraded disk, a GC-bound task) lasts several passages: consecutive
    // checkpoints of the task each overlap the next, as a one-off slow step rarely makes them.
    // And a degraded task often ends dead (an OOM after GC pressure): `then` fails it right after
    // the spell, while its overlapping checkpoints are still pending; only kinds the plan may draw.
    const times = kind === "slow" ? fc.option(fc.integer({ min: 2, max: 12 }), { nil: undefined, freq: 3 }) : fc.constant(undefined);
    const deaths = (["crash", "kill"] as const).filter((k) => r.kinds.includes(k));
    const then = kind === "slow" && deaths.length ? fc.option(fc.constantFrom(...deaths), { nil: undefined, freq: 3 }) : fc.constant(undefined);
    // A spell's steps overlap the next checkpoints (5–60 s against 2–30 s intervals) rather than
    // expire them: a spell of expiries is one expiry after another, which single steps already draw.
    const spell = times.chain((t) => fc.record({ times: fc.constant(t), ms: t === undefined ? ms : fc.integer({ min: 5_000, max: 60_000 }) }));
    const placed = aimed.chain((task) => fc.record({ task: fc.constant(task), occurrence: fc.integer({ min: 1, max: maxFor(point, task) }) }));
    return fc.record({ placed, spell, then }).map(({ placed: { occurrence, task }, spell: { ms, times }, then }): Fault => {
      const base = { point, occurrence, ...(task !== undefined ? { task } : {}) };
      return kind === "slow" ? { kind, ...base, ms, ...(times !== undefined ? { times } : {}), ...(then !== undefined ? { then } : {}) } : { kind, ...base };
    });
  });
  // Clock skew: a source subtask (or all of them) whose clock steps by up to 5 s (NTP's usual
  // correction) or 5 min (a VM resumed, a bad NTP source), possibly later in the run, possibly
  // drifting too: slightly (a real quartz) or grossly (a starved VM clock), which stretches or
  // squeezes the watermark interval and the poll sleeps.
  const sourceTasks = r.tasks.filter((t) => t.startsWith("#") || t === "Source");
  const skew: fc.Arbitrary<Fault> = fc.record({
    task: sourceTasks.length ? fc.option(fc.constantFrom(...sourceTasks), { nil: undefined, freq: 2 }) : fc.constant(undefined),
    ms: fc.oneof(fc.integer({ min: -5_000, max: 5_000 }), fc.integer({ min: -300_000, max: 300_000 })),
    fromMs: fc.option(fc.integer({ min: 1, max: r.skewWithinMs }), { nil: undefined, freq: 2 }),
    driftPpm: fc.option(fc.oneof(fc.integer({ min: -1_000, max: 1_000 }), fc.integer({ min: -500_000, max: 500_000 })), { nil: undefined, freq: 2 }),
  }).map(({ task, ms, fromMs, driftPpm }): Fault => ({ kind: "skew", ...(task !== undefined ? { task } : {}), ms: ms || 0, ...(fromMs !== undefined ? { fromMs } : {}), ...(driftPpm !== undefined ? { driftPpm } : {}) }));
  // Lost RPCs: a trigger to one source task, an ack from one task, a completion notice to one
  // task, alone or a few in a row (a connection dropping messages for a while). A trigger lost
  // at one source of several is what leaves a task aligning a checkpoint whose barrier never comes
  // on some channels, until the checkpoint is aborted or a newer barrier overtakes it.
  const losePoints = (LOSE_POINTS as readonly FaultPoint[]).filter((p) => r.points.includes(p)) as LosePoint[];
  const lose: fc.Arbitrary<Fault> = fc.constantFrom(...(losePoints.length ? losePoints : LOSE_POINTS)).chain((point) => {
    // Triggers go to source tasks only; the coordinator sends and receives, it is never the task.
    const targets = r.tasks.filter((t) => t !== "coordinator" && (point !== "checkpoint.trigger" || t === "Source" || subtask(t)));
    const aimed = targets.length ? fc.option(fc.constantFrom(...targets), { nil: undefined, freq: 2 }) : fc.constant(undefined);
    // The calibration counts a trigger once (at the coordinator: a trigger aimed at a source draws
    // within that), an ack or a notice once per task.
    return aimed.chain((task) => fc.record({ occurrence: fc.integer({ min: 1, max: maxFor(point, task) }), times: fc.option(fc.integer({ min: 2, max: 3 }), { nil: undefined, freq: 3 }) })
      .map(({ occurrence, times }): Fault => ({ kind: "lose", point, occurrence, ...(task !== undefined ? { task } : {}), ...(times !== undefined ? { times } : {}) })));
  });
  const byKind = (k: FaultKind): fc.Arbitrary<Fault> => {
    switch (k) {
      case "crash": case "kill": case "slow": return atPoint(k);
      case "lose": return lose;
      case "disk": return diskFault(r.diskKinds, (["crash", "kill"] as const).filter((k) => r.kinds.includes(k)), passed);
      case "skew": return skew;
      case "toxic": return fc.constantFrom(...FEED_TOXIC_KINDS).chain((k) => feedFaultPlan({ kinds: [k], maxConnectionProbability: 0.002, maxFrameProbability: 0.05 }).filter((p) => p.toxics.length > 0)).map((p): Fault => ({ kind: "toxic", toxic: p.toxics[0] }));
    }
  };
  // Crashes first in the list: fc.oneof shrinks toward its first arbitrary, and a crash is the simplest fault.
  const kinds = [...r.kinds].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  return fc.array(fc.oneof(...kinds.map(byKind)), { minLength: r.minFaults, maxLength: r.maxFaults });
}

const ORDER: readonly FaultKind[] = ["crash", "kill", "slow", "lose", "skew", "toxic", "disk"];
