import type { TaskClock } from "../../engine/checkpoint/faults.ts";
import type { SkewFault } from "./fault-plan.ts";

/**
 * A TaskManager clock that is off (fault-plan.ts `skew`): it reads the kernel's time until
 * `fromMs` after the process started, then `ms` more (an NTP step, forward or back), and from
 * there drifts by `driftPpm` millionths. Whole milliseconds, pure arithmetic: the same plan gives
 * the same readings in any process.
 */
export class SkewedClock implements TaskClock {
  private readonly ppm: number;
  private from: number | undefined;

  /**
   * `origin(now)`: when the process started (the nemesis's first clock reading, shared by the
   * tasks of one process); `shown(now)`: called once the skew first changes a reading.
   */
  constructor(private readonly f: SkewFault, private readonly origin: (now: number) => number, private readonly shown: (now: number) => void) {
    this.ppm = f.driftPpm ?? 0;
  }

  private start(now: number): number {
    this.from ??= this.origin(now) + (this.f.fromMs ?? 0);
    return this.from;
  }

  /** The reading after the step, for a kernel time at or after it. */
  private after(t: number, from: number): number {
    return t + this.f.ms + Math.floor(((t - from) * this.ppm) / 1_000_000);
  }

  local(now: number): number {
    const from = this.start(now);
    if (now < from) return now;
    this.shown(now);
    return this.after(now, from);
  }

  kernelAt(local: number, now: number): number {
    const from = this.start(now);
    if (now < from) {
      if (local <= now) return now;
      if (local < from) return local; // reached before the step
    } else if (this.after(now, from) >= local) return now;
    // On the stepped, drifting line: the first whole ms whose reading is at least `local`.
    let t = Math.max(from, now, Math.ceil(from + (local - from - this.f.ms) / (1 + this.ppm / 1_000_000)));
    while (this.after(t, from) < local) t++;
    while (t - 1 >= Math.max(from, now) && this.after(t - 1, from) >= local) t--;
    return t;
  }
}
