import { InjectedCrash, ProcessKilled, type FaultInjector, type FaultPoint, type FaultSite, type TaskClock } from "../../engine/checkpoint/faults.ts";
import type { Fs } from "../../engine/state/fs.ts";
import type { FeedFaultPlan } from "../binance/toxics.ts";
import { SAVEPOINT_MOMENT, type DiskFaultEntry, type Fault, type FaultPlan, type LoseFault, type SkewFault, type SlowFault } from "./fault-plan.ts";
import { SkewedClock } from "./skewed-clock.ts";
import { SimFs, type DiskFault } from "./sim-fs.ts";

/** One fault that fired: where and when, for the report and the timeline. */
export interface FiredFault {
  readonly fault: Fault;
  readonly index: number;
  readonly site: FaultSite;
}

/**
 * The one interpreter of a fault plan; nothing else in a run decides to fail. At the engine's
 * fault points it fires crashes, kills and slow steps (each once, at its occurrence; a slow spell
 * for its `times` passages); it arms
 * the disk faults on the run's SimFs and hands the feed its toxics; bit flips it applies to the
 * stored bytes just before a restore reads them. It never draws randomness, so a plan replays
 * exactly. It also counts every site passed, which tells arbitraries how often a point occurs.
 */
export class Nemesis implements FaultInjector {
  private readonly seen: number[];
  private readonly done: boolean[];
  readonly fired: FiredFault[] = [];
  readonly passages = new Map<string, number>();
  /** Set by countTargets. */
  private targets?: readonly string[];
  /** Indices of crash/kill faults, and of slow faults: the per-site loops touch only these. */
  private readonly stops: number[] = [];
  private readonly slows: number[] = [];
  private readonly losses: number[] = [];
  private readonly flips: number[] = [];
  /** Slow spells that ended with `then`: the task that took the last slow step fails at its next fault point. */
  private readonly dying: { index: number; task: string }[] = [];
  /** Disk faults with `then` that failed a call: whoever passes a fault point from `at` on dies. */
  private readonly doomed: { index: number; at: number }[] = [];
  private fs?: Fs;
  private healedAt = 0;
  /** Load the configuration puts on the job (not faults of the plan: never reported, never shrunk as faults). */
  private readonly loads: { point: FaultPoint; from: number; ms: number; left: number }[] = [];

  /** Per fault, the virtual time its passages count from (`from`, resolved; -Infinity: the start). */
  private readonly from: number[];

  /**
   * `onKill` ends a real process (SIGKILL); without it a kill is simulated by throwing ProcessKilled.
   * `savepointAt`: the virtual time of the run's configured savepoint, which `from=savepoint` names.
   */
  constructor(readonly plan: FaultPlan, private readonly onKill?: (site: FaultSite, faultIndex: number) => void, savepointAt?: number) {
    this.seen = plan.map(() => 0);
    this.done = plan.map(() => false);
    this.from = plan.map((f) => {
      if (f.kind !== "crash" && f.kind !== "kill") return -Infinity;
      if (f.from === SAVEPOINT_MOMENT) return savepointAt ?? -Infinity;
      return f.from ?? -Infinity;
    });
    plan.forEach((f, i) => {
      if (f.kind === "crash" || f.kind === "kill") this.stops.push(i);
      else if (f.kind === "slow") this.slows.push(i);
      else if (f.kind === "lose") this.losses.push(i);
      else if (f.kind === "disk" && f.disk.kind === "bitflip") this.flips.push(i);
    });
  }

  /**
   * Also counts, per point, the passages whose task (or path) contains each of `targets`, under
   * `targetKey(point, target)`, zero included from the point's first passage: what a fault aimed
   * at that target can reach. A calibration's business, not a faulty run's (a loop per passage).
   */
  countTargets(targets: readonly string[]): void {
    this.targets = targets;
  }

  check(site: FaultSite): void {
    const n = this.passages.get(site.point);
    this.passages.set(site.point, (n ?? 0) + 1);
    if (this.targets) for (const t of this.targets) {
      const key = targetKey(site.point, t);
      const m = n === undefined ? 0 : this.passages.get(key)!;
      this.passages.set(key, site.task.includes(t) ? m + 1 : m);
    }
    if (this.fs instanceof SimFs && this.fs.trips.length > this.tripsSeen) this.diskFired(this.fs.trips, site);
    // Heal: a full disk or failing I/O lasts until it has failed something, and the job has
    // restarted or triggered its next checkpoint since (the fault phase is over: liveness is due).
    // An intermittent fault lasts until it has failed its calls.
    if ((site.point === "restore" || site.point === "checkpoint.trigger") && this.fs instanceof SimFs && this.fs.tripped > this.healedAt) {
      this.healedAt = this.fs.tripped;
      this.fs.healTransient();
    }
    if (site.point === "restore" && this.flips.length) this.flipBits(site);
    // Deaths come at the engine's own points (a task's): a file-system call is only counted.
    if (site.point !== "fs.write") {
      if (this.dying.length) this.die(site);
      if (this.doomed.length) this.dieAfterDisk(site);
    }
    const plan = this.plan;
    for (const i of this.stops) {
      const f = plan[i] as Extract<Fault, { kind: "crash" | "kill" }>;
      if (this.done[i] || f.point !== site.point) continue;
      if (f.task !== undefined && !site.task.includes(f.task)) continue;
      if (site.time < this.from[i]) continue;
      if (++this.seen[i] === f.occurrence) {
        this.done[i] = true;
        this.fired.push({ fault: f, index: i, site });
        this.fail(f.kind, site, i);
      }
    }
  }

  /**
   * From virtual time `from` on, the next `passages` passages of `point` (any task) each take `ms`
   * more: a job under load at a moment the configuration names (a rescale's stop), not a fault.
   */
  load(point: FaultPoint, from: number, ms: number, passages: number): void {
    this.loads.push({ point, from, ms, left: passages });
  }

  slowdown(site: FaultSite): number {
    let ms = 0;
    for (const l of this.loads) {
      if (l.left === 0 || l.point !== site.point || site.time < l.from) continue;
      l.left--;
      ms += l.ms;
    }
    for (const i of this.slows) {
      const f = this.plan[i] as SlowFault;
      if (!this.inSpell(i, f, site)) continue;
      if (this.done[i] && f.then) this.dying.push({ index: i, task: site.task });
      ms += f.ms;
    }
    return ms;
  }

  /** Whether the message arriving at `site` is lost. */
  lose(site: FaultSite): boolean {
    let lost = false;
    for (const i of this.losses) if (this.inSpell(i, this.plan[i] as LoseFault, site)) lost = true;
    return lost;
  }

  /**
   * Whether fault `i` (slow or lose) takes this passage of `site`: its `occurrence`-th matching
   * passage and the next `times - 1`. It counts as fired once, at the first; done at the last.
   */
  private inSpell(i: number, f: SlowFault | LoseFault, site: FaultSite): boolean {
    if (this.done[i] || f.point !== site.point || (f.task !== undefined && !site.task.includes(f.task))) return false;
    const n = ++this.seen[i];
    if (n < f.occurrence) return false;
    if (n === f.occurrence) this.fired.push({ fault: f, index: i, site });
    if (n === f.occurrence + (f.times ?? 1) - 1) this.done[i] = true;
    return true;
  }

  private die(site: FaultSite): void {
    const at = this.dying.findIndex((d) => d.task === site.task);
    if (at < 0) return;
    const i = this.dying[at].index;
    this.dying.splice(at, 1);
    this.fail((this.plan[i] as SlowFault).then!, site, i);
  }

  /** A disk fault's death: the first fault point at or after its time, whichever task passes it. */
  private dieAfterDisk(site: FaultSite): void {
    const at = this.doomed.findIndex((d) => site.time >= d.at);
    if (at < 0) return;
    const i = this.doomed[at].index;
    this.doomed.splice(at, 1);
    this.fail((this.plan[i] as DiskFaultEntry).then!, site, i);
  }

  /** Fault `i` fails the task passing `site` (a crash), or the whole process (a kill). */
  private fail(how: "crash" | "kill", site: FaultSite, i: number): never {
    if (how === "kill") {
      this.onKill?.(site, i);
      throw new ProcessKilled(site, i);
    }
    throw new InjectedCrash(site, i);
  }

  /**
   * A source task's clock: the first skew of the plan that matches the task, or undefined (the
   * kernel's time). `fromMs` counts from the first clock reading of any task of this process
   * (its start, as far as the tasks can tell); the skew counts as fired when its step or drift first shows.
   */
  clockOf(task: string): TaskClock | undefined {
    const i = this.plan.findIndex((f) => f.kind === "skew" && (f.task === undefined || task.includes(f.task)));
    if (i < 0) return undefined;
    return new SkewedClock(this.plan[i] as SkewFault, (now) => (this.clockOrigin ??= now), (time) => {
      if (this.skewShown.has(i)) return;
      this.skewShown.add(i);
      this.fired.push({ fault: this.plan[i], index: i, site: { point: "task.process", task, time } });
    });
  }

  private readonly skewShown = new Set<number>();
  /** The first clock reading of this process: skews count their `fromMs` from it. */
  private clockOrigin: number | undefined;

  /** Arms the plan's disk faults on the run's disk (once per run: they survive process kills, as SimFs keeps them). */
  armDisk(fs: Fs): string[] {
    this.fs = fs;
    const out: string[] = [];
    if (!(fs instanceof SimFs)) return out;
    for (const f of this.plan) if (f.kind === "disk" && f.disk.kind !== "bitflip") out.push(fs.inject(f.disk));
    return out;
  }

  /** The fault phase is over: disarm every disk fault, so what the run left behind can be read. */
  heal(): void {
    if (this.fs instanceof SimFs) this.fs.clear();
  }

  /** Uses the disk without arming it again (a later process of the same run). */
  attachDisk(fs: Fs): void {
    this.fs = fs;
    // The process before this one reported what its disk faults did.
    if (fs instanceof SimFs) this.tripsSeen = fs.trips.length;
  }

  /** The feed toxics of the plan, for the simulated exchange; undefined = a perfect exchange. */
  feedPlan(): FeedFaultPlan | undefined {
    const toxics = this.plan.flatMap((f) => (f.kind === "toxic" ? [f.toxic] : []));
    return toxics.length ? { toxics } : undefined;
  }

  /** What a new process after a kill must still do: faults that have not fired, and the standing ones (disk, toxics). */
  unfired(): Fault[] {
    return this.plan.flatMap((f, i): Fault[] => {
      if (this.done[i]) return [];
      // A slow spell cut short by the kill: the new process is slow for the passages still due.
      if (f.kind === "slow" && this.seen[i] >= f.occurrence) return [{ ...f, occurrence: 1, times: f.occurrence + (f.times ?? 1) - 1 - this.seen[i] }];
      // A disk fault that failed its call here stays armed on the disk, but its death was this
      // process's: the next one does not die of it again.
      if (f.kind === "disk" && f.then !== undefined && this.diskShown.has(i)) return [{ kind: "disk", disk: f.disk }];
      return [f];
    });
  }

  private tripsSeen = 0;
  private readonly diskShown = new Set<number>();

  /**
   * A disk fault failed an I/O call since the last fault point: it counts as fired (once), at
   * this point's time, which is the engine's first step after the failing call.
   */
  private diskFired(trips: readonly DiskFault[], site: FaultSite): void {
    for (; this.tripsSeen < trips.length; this.tripsSeen++) {
      const i = this.plan.findIndex((f) => f.kind === "disk" && f.disk === trips[this.tripsSeen]);
      if (i < 0 || this.diskShown.has(i)) continue;
      this.diskShown.add(i);
      const f = this.plan[i] as DiskFaultEntry;
      this.fired.push({ fault: f, index: i, site: { ...site, task: "disk" } });
      if (f.then !== undefined) this.doomed.push({ index: i, at: site.time + (f.afterMs ?? 0) });
    }
  }

  private flipBits(site: FaultSite): void {
    const fs = this.fs;
    if (!(fs instanceof SimFs)) return;
    for (const i of this.flips) {
      const f = this.plan[i];
      if (this.done[i] || f.kind !== "disk" || f.disk.kind !== "bitflip") continue;
      const target = fs.files().find((p) => p.includes(f.disk.path!));
      if (target === undefined) continue;
      try {
        fs.inject({ ...f.disk, path: target });
      } catch {
        continue; // nothing stored yet (or the offset lies beyond it): try at the next restore
      }
      this.done[i] = true;
      this.fired.push({ fault: f, index: i, site });
    }
  }
}

/** The key under which `Nemesis.countTargets` counts a point's passages that a fault aimed at `target` matches. */
export const targetKey = (point: string, target: string): string => `${point}[${target}]`;
