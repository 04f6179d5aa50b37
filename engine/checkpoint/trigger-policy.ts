import type { CheckpointConfig } from "../api/checkpoint-config.ts";

/** Why a checkpoint is being requested: the timer, every source at its end (FLIP-147), or a user's savepoint. */
export type TriggerKind = "periodic" | "final" | "savepoint";

export type TriggerDecision =
  | { readonly kind: "trigger" }
  /** As many checkpoints as allowed are pending: ask again when one ends. */
  | { readonly kind: "refused"; readonly reason: "TOO_MANY_CONCURRENT_CHECKPOINTS" }
  /** Too soon after the last completion: ask again at `retryAt`. */
  | { readonly kind: "refused"; readonly reason: "MINIMUM_TIME_BETWEEN_CHECKPOINTS"; readonly retryAt: number };

/**
 * When to trigger (Flink's CheckpointRequestDecider, without the queue): the interval from the
 * last trigger, the minimum pause from the last completion, the cap on pending checkpoints, and
 * when a pending one expires. A savepoint ignores the cap and the pause, as in Flink; the final
 * checkpoint ignores the pause (nothing is gained by delaying the end of a bounded job).
 */
/** The decisions without data, made once (decide runs at every checkpoint). */
const TRIGGER: TriggerDecision = Object.freeze({ kind: "trigger" });
const TOO_MANY: TriggerDecision = Object.freeze({ kind: "refused", reason: "TOO_MANY_CONCURRENT_CHECKPOINTS" });

export class TriggerPolicy {
  private lastTrigger = -Infinity;
  private lastCompletion = -Infinity;

  constructor(private readonly cfg: Pick<CheckpointConfig, "interval" | "minPauseBetweenCheckpoints" | "maxConcurrentCheckpoints" | "checkpointTimeout">) {}

  /** (Re)start: the first periodic trigger is one interval away. */
  start(now: number): void {
    this.lastTrigger = now;
  }

  /** When the periodic timer should next fire. */
  nextPeriodic(): number {
    return this.lastTrigger + this.cfg.interval;
  }

  /** When the minimum pause after the last completion ends. */
  pauseEnds(): number {
    return this.lastCompletion + this.cfg.minPauseBetweenCheckpoints;
  }

  decide(now: number, pending: number, kind: TriggerKind): TriggerDecision {
    if (kind === "savepoint") return TRIGGER;
    if (pending >= this.cfg.maxConcurrentCheckpoints) return TOO_MANY;
    if (kind === "periodic" && now < this.pauseEnds()) return { kind: "refused", reason: "MINIMUM_TIME_BETWEEN_CHECKPOINTS", retryAt: this.pauseEnds() };
    return TRIGGER;
  }

  triggered(now: number): void {
    this.lastTrigger = now;
  }

  completed(now: number): void {
    this.lastCompletion = now;
  }

  expiresAt(triggerTime: number): number {
    return triggerTime + this.cfg.checkpointTimeout;
  }
}
