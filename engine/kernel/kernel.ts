import { Rng } from "./rng.ts";
import { Trace } from "./trace.ts";
import { MinHeap } from "./min-heap.ts";

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
  private readonly heap = new MinHeap<Ev>(evLess);
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
    this.heap.push(ev);
  }

  after(delay: number, target: Runnable): void {
    this.at(this.clock + delay, target);
  }

  pending(): number {
    return this.heap.size;
  }

  /** Time of the next event, or undefined when idle. */
  peekTime(): number | undefined {
    return this.heap.peek()?.time;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Drops every pending event (job cancellation); the clock keeps its value. */
  clear(): void {
    this.heap.clear();
  }

  /** Runs events until none is left, `stop()` is called, or the next one lies past `until`. */
  run(until = Infinity): void {
    this.stopped = false;
    while (!this.stopped && this.heap.size > 0 && this.heap.peek()!.time <= until) {
      const ev = this.heap.pop()!;
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

}

function evLess(a: Ev, b: Ev): boolean {
  return a.time < b.time || (a.time === b.time && (a.tie < b.tie || (a.tie === b.tie && a.seq < b.seq)));
}
