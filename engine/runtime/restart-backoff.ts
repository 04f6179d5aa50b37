import type { Rng } from "../kernel/rng.ts";
import { describeRestartStrategy, type RestartStrategy } from "../api/restart-strategies.ts";

export type RestartDecision = { readonly restart: true; readonly delay: number } | { readonly restart: false; readonly reason: string };

/**
 * Flink's RestartBackoffTimeStrategy implementations in one place: given a failure at `now`,
 * restart after a delay or give up, with Flink's wording. Jitter comes from the seeded RNG.
 */
export class RestartBackoff {
  private failures = 0;
  private readonly failureTimes: number[] = [];
  private current: number;
  private lastFailure = -Infinity;

  constructor(readonly strategy: RestartStrategy, private readonly rng: Rng) {
    this.current = strategy.kind === "exponential-delay" ? strategy.initial : 0;
  }

  onFailure(now: number): RestartDecision {
    const s = this.strategy;
    this.failures++;
    switch (s.kind) {
      case "none":
        return { restart: false, reason: `Recovery is suppressed by NoRestartBackoffTimeStrategy` };
      case "fixed-delay":
        if (this.failures > s.attempts) return { restart: false, reason: `Recovery is suppressed by ${describeRestartStrategy(s)}: ${s.attempts} restart attempts used` };
        return { restart: true, delay: s.delay };
      case "failure-rate": {
        // The interval is closed, as in Flink's FailureRateRestartBackoffTimeStrategy (which keeps
        // maxFailures + 1 timestamps since FLINK-20752): a failure exactly `interval` ago still counts.
        this.failureTimes.push(now);
        while (this.failureTimes.length && this.failureTimes[0] < now - s.interval) this.failureTimes.shift();
        if (this.failureTimes.length > s.maxFailures) {
          return { restart: false, reason: `Recovery is suppressed by ${describeRestartStrategy(s)}: ${this.failureTimes.length} failures within ${s.interval}ms` };
        }
        return { restart: true, delay: s.delay };
      }
      case "exponential-delay": {
        if (now - this.lastFailure > s.resetThreshold) this.current = s.initial;
        else this.current = Math.min(this.current * s.multiplier, s.max);
        this.lastFailure = now;
        const j = s.jitter * this.current;
        const delay = Math.max(0, Math.round(this.current - j + this.rng.next() * 2 * j));
        return { restart: true, delay };
      }
    }
  }

  attempts(): number {
    return this.failures;
  }
}
