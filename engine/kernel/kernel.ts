import { Rng } from "./rng.ts";
import { Trace } from "./trace.ts";

/**
 * A discrete-event simulator: events ordered by (virtual time, seeded tiebreak, sequence).
 * The tiebreak is drawn from the scheduler's RNG, so among events due at the same instant
 * the seed picks the order; different seeds explore different interleavings while one seed
 * always replays the same one. Nothing here reads the wall clock.
 */
export interface Runnable {
  run(now: number): void;
}

interface Ev {
  time: number;
  tie: number;
  seq: number;
  target: Runnable;
}

export class Kernel {
  private heap: Ev[] = [];
  private seq = 0;
  private clock: number;
  private stopped = false;
  readonly rng: Rng;
  private readonly schedRng: Rng;

  constructor(readonly seed: string, startTime = 0, readonly trace = new Trace()) {
    this.rng = new Rng(seed);
    this.schedRng = this.rng.fork("scheduler");
    this.clock = startTime;
  }

  now(): number {
    return this.clock;
  }

  /** Runs `target` at virtual time `at` (never in the past). */
  at(at: number, target: Runnable): void {
    const ev: Ev = { time: at < this.clock ? this.clock : at, tie: this.schedRng.next(), seq: this.seq++, target };
    this.push(ev);
  }

  after(delay: number, target: Runnable): void {
    this.at(this.clock + delay, target);
  }

  pending(): number {
    return this.heap.length;
  }

  /** Time of the next event, or undefined when idle. */
  peekTime(): number | undefined {
    return this.heap.length ? this.heap[0].time : undefined;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Drops every pending event (job cancellation); the clock keeps its value. */
  clear(): void {
    this.heap = [];
  }

  /** Runs events until none is left, `stop()` is called, or the next one lies past `until`. */
  run(until = Infinity): void {
    this.stopped = false;
    while (!this.stopped && this.heap.length > 0 && this.heap[0].time <= until) {
      const ev = this.pop();
      this.clock = ev.time;
      ev.target.run(ev.time);
    }
  }

  /**
   * Real-time mode (ws / intercept transports): runs every event due by `t`, then moves the
   * clock to `t`. The driver calls this with the wall clock; the simulator never does.
   */
  advanceTo(t: number): void {
    this.run(t);
    if (!this.stopped && t > this.clock) this.clock = t;
  }

  isStopped(): boolean {
    return this.stopped;
  }

  private less(a: Ev, b: Ev): boolean {
    return a.time < b.time || (a.time === b.time && (a.tie < b.tie || (a.tie === b.tie && a.seq < b.seq)));
  }

  private push(ev: Ev): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Ev {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
