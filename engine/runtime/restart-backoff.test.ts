import { describe, expect, it } from "vitest";
import { Rng } from "../kernel/rng.ts";
import { RestartStrategies } from "../api/restart-strategies.ts";
import { RestartBackoff } from "./restart-backoff.ts";

describe("restart strategies", () => {
  it("fixed delay: restarts `attempts` times, then gives up with Flink's wording", () => {
    const b = new RestartBackoff(RestartStrategies.fixedDelayRestart(3, 10_000), new Rng("r"));
    expect([0, 1, 2].map((t) => b.onFailure(t))).toEqual([{ restart: true, delay: 10_000 }, { restart: true, delay: 10_000 }, { restart: true, delay: 10_000 }]);
    const d = b.onFailure(3);
    expect(d.restart).toBe(false);
    expect(!d.restart && d.reason).toMatch(/Recovery is suppressed by fixed-delay\(attempts=3, delay=10000ms\)/);
  });

  it("exponential delay: grows by the multiplier up to max, resets after a quiet period, jitter is seeded", () => {
    const mk = () => new RestartBackoff(RestartStrategies.exponentialDelayRestart(1_000, 8_000, 2, 60_000, 0), new Rng("e"));
    const b = mk();
    const delays = [0, 1, 2, 3, 4, 5].map((t) => (b.onFailure(t * 10) as { delay: number }).delay);
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect((b.onFailure(1_000_000) as { delay: number }).delay).toBe(1_000);
    const j1 = new RestartBackoff(RestartStrategies.exponentialDelayRestart(1_000, 8_000, 2, 60_000, 0.5), new Rng("j"));
    const j2 = new RestartBackoff(RestartStrategies.exponentialDelayRestart(1_000, 8_000, 2, 60_000, 0.5), new Rng("j"));
    const a = [0, 1, 2].map((t) => (j1.onFailure(t) as { delay: number }).delay);
    expect([0, 1, 2].map((t) => (j2.onFailure(t) as { delay: number }).delay)).toEqual(a);
    a.forEach((d, i) => {
      const base = 1_000 * 2 ** i;
      expect(d).toBeGreaterThanOrEqual(base * 0.5);
      expect(d).toBeLessThanOrEqual(base * 1.5);
    });
  });

  it("failure rate: gives up when more than maxFailures fall within the interval", () => {
    const b = new RestartBackoff(RestartStrategies.failureRateRestart(2, 1_000, 50), new Rng("f"));
    expect(b.onFailure(0).restart).toBe(true);
    expect(b.onFailure(500).restart).toBe(true);
    expect(b.onFailure(1_600).restart).toBe(true); // the failure at 0 has left the window: 2 within [600, 1600]
    expect(b.onFailure(1_700).restart).toBe(true); // 2 within [700, 1700]
    expect(b.onFailure(1_800).restart).toBe(false); // 3 within [800, 1800]: more than 2
  });

  it("failure rate: the interval is closed, as in Flink (a failure exactly `interval` ago counts)", () => {
    const b = new RestartBackoff(RestartStrategies.failureRateRestart(1, 1_000, 0), new Rng("f"));
    expect(b.onFailure(0).restart).toBe(true);
    expect(b.onFailure(1_001).restart).toBe(true); // [1, 1001] holds one failure
    expect(b.onFailure(2_001).restart).toBe(false); // [1001, 2001] holds two
  });

  it("none: never restarts", () => {
    expect(new RestartBackoff(RestartStrategies.noRestart(), new Rng("n")).onFailure(0)).toEqual({ restart: false, reason: "Recovery is suppressed by NoRestartBackoffTimeStrategy" });
  });

  it("refuses nonsensical parameters at once", () => {
    expect(() => RestartStrategies.fixedDelayRestart(-1, 0)).toThrow(/attempts/);
    expect(() => RestartStrategies.exponentialDelayRestart(0, 1, 2, 0, 0)).toThrow(/initial/);
    expect(() => RestartStrategies.exponentialDelayRestart(1, 2, 2, 0, 2)).toThrow(/jitter/);
  });
});
