import { InjectedCrash, ProcessKilled, type FaultInjector, type FaultPoint, type FaultSite } from "../../engine/checkpoint/faults.ts";
import type { Fault, FaultPlan } from "./fault-plan.ts";

/** One fault that fired: where and when, for the report and the timeline. */
export interface FiredFault {
  readonly fault: Fault;
  readonly index: number;
  readonly site: FaultSite;
}

/**
 * Interprets a fault plan at the engine's fault points. It counts passages per fault and
 * fires each fault once, at its occurrence; it never draws randomness, so a plan replays
 * exactly. It also counts every site passed, which tells arbitraries how often a point occurs.
 */
export class Nemesis implements FaultInjector {
  private readonly seen: number[];
  private readonly done: boolean[];
  readonly fired: FiredFault[] = [];
  readonly passages = new Map<FaultPoint, number>();

  /** `onKill` ends a real process (SIGKILL); without it a kill is simulated by throwing ProcessKilled. */
  constructor(readonly plan: FaultPlan, private readonly onKill?: (site: FaultSite) => void) {
    this.seen = plan.map(() => 0);
    this.done = plan.map(() => false);
  }

  check(site: FaultSite): void {
    this.passages.set(site.point, (this.passages.get(site.point) ?? 0) + 1);
    const plan = this.plan;
    for (let i = 0; i < plan.length; i++) {
      const f = plan[i];
      if (this.done[i] || f.point !== site.point) continue;
      if (f.task !== undefined && !site.task.includes(f.task)) continue;
      if (++this.seen[i] === f.occurrence) {
        this.done[i] = true;
        this.fired.push({ fault: f, index: i, site });
        if (f.kind === "kill") {
          this.onKill?.(site);
          throw new ProcessKilled(site, i);
        }
        throw new InjectedCrash(site, i);
      }
    }
  }

  /** Faults of the plan that never fired (their site was not reached often enough). */
  unfired(): Fault[] {
    return this.plan.filter((_f, i) => !this.done[i]);
  }
}
