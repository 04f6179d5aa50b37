import type { Millis } from "./time.ts";

/** A restart strategy is plain data; engine/runtime/failover decides with it. */
export type RestartStrategy =
  | { kind: "fixed-delay"; attempts: number; delay: Millis }
  | { kind: "exponential-delay"; initial: Millis; max: Millis; multiplier: number; resetThreshold: Millis; jitter: number }
  | { kind: "failure-rate"; maxFailures: number; interval: Millis; delay: Millis }
  | { kind: "none" };

function check(cond: boolean, msg: string): void {
  if (!cond) throw new RangeError(`RestartStrategies.${msg}`);
}

/** Flink's (deprecated in 1.19, still everywhere) RestartStrategies factory. */
export const RestartStrategies = {
  fixedDelayRestart(attempts: number, delay: Millis): RestartStrategy {
    check(Number.isInteger(attempts) && attempts >= 0, `fixedDelayRestart: attempts must be a whole number >= 0, got ${attempts}`);
    check(delay >= 0, `fixedDelayRestart: delay must be >= 0, got ${delay}`);
    return { kind: "fixed-delay", attempts, delay };
  },
  exponentialDelayRestart(initial: Millis, max: Millis, multiplier: number, resetThreshold: Millis, jitter: number): RestartStrategy {
    check(initial > 0 && max >= initial, `exponentialDelayRestart: need 0 < initial <= max, got ${initial}, ${max}`);
    check(multiplier >= 1, `exponentialDelayRestart: multiplier must be >= 1, got ${multiplier}`);
    check(jitter >= 0 && jitter <= 1, `exponentialDelayRestart: jitter must be in [0, 1], got ${jitter}`);
    return { kind: "exponential-delay", initial, max, multiplier, resetThreshold, jitter };
  },
  failureRateRestart(maxFailures: number, interval: Millis, delay: Millis): RestartStrategy {
    check(Number.isInteger(maxFailures) && maxFailures >= 1, `failureRateRestart: maxFailures must be >= 1, got ${maxFailures}`);
    check(interval > 0, `failureRateRestart: interval must be > 0, got ${interval}`);
    return { kind: "failure-rate", maxFailures, interval, delay };
  },
  noRestart(): RestartStrategy {
    return { kind: "none" };
  },
} as const;

/** Flink's default when checkpointing is on and no strategy is set: fixed delay, unlimited attempts, 1 s. */
export const DEFAULT_WITH_CHECKPOINTING: RestartStrategy = { kind: "fixed-delay", attempts: Number.MAX_SAFE_INTEGER, delay: 1_000 };

export function describeRestartStrategy(s: RestartStrategy): string {
  switch (s.kind) {
    case "fixed-delay":
      return `fixed-delay(attempts=${s.attempts === Number.MAX_SAFE_INTEGER ? "unlimited" : s.attempts}, delay=${s.delay}ms)`;
    case "exponential-delay":
      return `exponential-delay(initial=${s.initial}ms, max=${s.max}ms, x${s.multiplier}, reset=${s.resetThreshold}ms, jitter=${s.jitter})`;
    case "failure-rate":
      return `failure-rate(${s.maxFailures} per ${s.interval}ms, delay=${s.delay}ms)`;
    case "none":
      return "none";
  }
}
