import { Rng } from "./rng.ts";
import { Trace } from "./trace.ts";
import { EventQueue, type Ev } from "./event-queue.ts";

/**
 * A discrete-event simulator: events ordered by (virtual time, seeded tiebreak, sequence).
 * The tiebreak is drawn from the scheduler's RNG, so among events due at the same instant
 * the seed picks the order; different seeds explore different interleavings while one seed
 * always replays the same one. Nothing here reads the wall clock.
 */
export interface Runnable {
  run(now: number): void;
}

/**
 * Virtual time went idle without limit: the kernel ran `events` events (periodic checkpoints,
 * timers) while no source delivered input. Without this, one trade stamped in the year 2286
 * makes a replay walk centuries of virtual time, checkpointing every interval, until memory
 * runs out. Raised by run() itself, so it ends the job instead of failing a task.
 */
export class IdleTimeError extends Error {
  override readonly name = "IdleTimeError";
  /** Caused by the input (a time far ahead of the rest): a user error, exit 2. */
  readonly exitCode = 2;
  constructor(readonly events: number, readonly lastInputTime: number, readonly now: number, readonly nextEventTime: number | undefined) {
    super(
      `no input for ${events} events: virtual time idled from ${iso(lastInputTime)} to ${iso(now)} doing only periodic work` +
        (nextEventTime !== undefined ? `, and work is still scheduled at ${iso(nextEventTime)}` : "") +
        ` (is a trade time far ahead of the others? the fixture loader refuses such times unless --allow-future)`,
    );
  }
}

function iso(t: number): string {
  return Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : `${t} ms`;
}

/** Default idle budget: about two weeks of idle virtual time at a 60 s checkpoint interval (7 to 9 events a checkpoint), seconds of work. */
export const DEFAULT_IDLE_EVENT_LIMIT = 250_000;

export class Kernel {
  private readonly heap = new EventQueue<Runnable>();
  private seq = 0;
  private clock: number;
  private stopped = false;
  private idleLimit = Infinity;
  private idleEvents = 0;
  private lastInput: number;
  readonly rng: Rng;
  /** Tiebreak generator (xorshift32), seeded from the scheduler's fork of the root RNG: one draw per event. */
  private tie: number;
  /** Events already run, reused by `at` (no object per event). */
  private readonly free: Ev<Runnable>[] = [];

  constructor(readonly seed: string, startTime = 0, readonly trace = new Trace()) {
    this.rng = new Rng(seed);
    this.tie = this.rng.fork("scheduler").int(0xffffffff) + 1; // never 0: xorshift stays at 0
    this.clock = startTime;
    this.lastInput = startTime;
  }

  /**
   * Bounds the work done while no input arrives: a bounded source (a replayed tape) arms it,
   * and run() throws IdleTimeError after `maxEvents` events without noteInput(). Unarmed
   * kernels (API jobs on collections, real-time runs) are not limited.
   */
  limitIdle(maxEvents = DEFAULT_IDLE_EVENT_LIMIT): void {
    this.idleLimit = maxEvents;
  }

  /** A source delivered input: the idle budget starts again. */
  noteInput(): void {
    this.idleEvents = 0;
    this.lastInput = this.clock;
  }

  now(): number {
    return this.clock;
  }

  /** Runs `target` at virtual time `at` (never in the past). */
  at(at: number, target: Runnable): void {
    let x = this.tie;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.tie = x;
    const time = at < this.clock ? this.clock : at;
    const ev = this.free.pop();
    if (ev === undefined) return this.heap.push({ time, tie: x, seq: this.seq++, target });
    ev.time = time;
    ev.tie = x;
    ev.seq = this.seq++;
    ev.target = target;
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
      if (++this.idleEvents > this.idleLimit) throw new IdleTimeError(this.idleLimit, this.lastInput, this.clock, this.latestPending());
      const ev = this.heap.pop()!;
      const target = ev.target!;
      this.clock = ev.time;
      ev.target = undefined;
      this.free.push(ev);
      target.run(this.clock);
    }
  }

  /**
   * Real-time mode (ws / intercept transports): runs every event due by `t`, then moves the
   * clock to `t`. The driver calls this with the wall clock; the simulator never does.
   */
  advanceTo(t: number): void {
    this.idleEvents = 0; // the wall clock bounds real-time work
    this.run(t);
    if (!this.stopped && t > this.clock) this.clock = t;
  }

  private latestPending(): number | undefined {
    let m: number | undefined;
    for (const e of this.heap.toArray()) if (m === undefined || e.time > m) m = e.time;
    return m;
  }

  isStopped(): boolean {
    return this.stopped;
  }

}
