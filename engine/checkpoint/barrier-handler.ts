/**
 * What a task with several input channels does with checkpoint barriers, as a small state
 * machine (Flink's SingleCheckpointBarrierHandler with its WaitingForFirstBarrier /
 * CollectingBarriers states):
 * - aligned (EXACTLY_ONCE): after barrier n arrives on a channel, that channel is blocked
 *   until barrier n has arrived on every live channel; then the task snapshots and unblocks;
 * - unaligned-free (AT_LEAST_ONCE): nothing is blocked; the snapshot happens when the last
 *   barrier arrives, so records that overtook it on faster channels are already in the state.
 * A channel that has ended counts as having delivered every later barrier.
 */
export type BarrierState =
  | { readonly kind: "waiting-for-first-barrier" }
  | { readonly kind: "collecting-barriers"; readonly checkpointId: number; readonly final: boolean; readonly startedAt: number; readonly seen: boolean[]; count: number };

export type BarrierDecision =
  | { readonly kind: "none" }
  /** Ignored: a barrier of a checkpoint this task already completed or that was aborted. */
  | { readonly kind: "stale" }
  | { readonly kind: "snapshot"; readonly checkpointId: number; readonly final: boolean; readonly alignmentMs: number };

const NONE: BarrierDecision = { kind: "none" };

export class BarrierHandler {
  private state: BarrierState = { kind: "waiting-for-first-barrier" };
  private readonly blocked: boolean[];
  private lastHandled = 0;

  constructor(private readonly ended: readonly boolean[], private readonly aligned: boolean) {
    this.blocked = ended.map(() => false);
  }

  current(): BarrierState {
    return this.state;
  }

  isBlocked(channel: number): boolean {
    return this.blocked[channel];
  }

  onBarrier(channel: number, checkpointId: number, final: boolean, now: number): BarrierDecision {
    if (checkpointId <= this.lastHandled) return { kind: "stale" };
    let s = this.state;
    if (s.kind === "collecting-barriers" && checkpointId > s.checkpointId) {
      // A newer checkpoint overtook an unfinished one (it was aborted upstream): drop the old.
      this.unblockAll();
      s = this.state = { kind: "waiting-for-first-barrier" };
    }
    if (s.kind === "collecting-barriers" && checkpointId < s.checkpointId) return { kind: "stale" };
    if (s.kind === "waiting-for-first-barrier") {
      s = this.state = { kind: "collecting-barriers", checkpointId, final, startedAt: now, seen: this.ended.map(() => false), count: 0 };
    }
    if (!s.seen[channel]) {
      s.seen[channel] = true;
      s.count++;
      if (this.aligned) this.blocked[channel] = true;
    }
    return this.maybeComplete(now);
  }

  /** A channel ended: it no longer holds back an alignment in progress. */
  onEndOfPartition(now: number): BarrierDecision {
    return this.state.kind === "collecting-barriers" ? this.maybeComplete(now) : NONE;
  }

  /** The coordinator aborted `checkpointId`: stop waiting for its barriers. */
  abort(checkpointId: number): void {
    const s = this.state;
    if (s.kind === "collecting-barriers" && s.checkpointId <= checkpointId) {
      this.unblockAll();
      this.state = { kind: "waiting-for-first-barrier" };
    }
    if (checkpointId > this.lastHandled) this.lastHandled = checkpointId;
  }

  private maybeComplete(now: number): BarrierDecision {
    const s = this.state;
    if (s.kind !== "collecting-barriers") return NONE;
    for (let i = 0; i < s.seen.length; i++) if (!s.seen[i] && !this.ended[i]) return NONE;
    this.unblockAll();
    this.state = { kind: "waiting-for-first-barrier" };
    this.lastHandled = s.checkpointId;
    return { kind: "snapshot", checkpointId: s.checkpointId, final: s.final, alignmentMs: now - s.startedAt };
  }

  private unblockAll(): void {
    this.blocked.fill(false);
  }
}
