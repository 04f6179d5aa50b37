import type { CheckpointOptions } from "../gateway.ts";

/**
 * Barrier alignment of a task with several input channels (Flink's SingleCheckpointBarrierHandler
 * and its states), as pure transitions `(state, event, controller) -> state`. The state says what
 * the task waits for; the controller does the effects: blocking channels, taking the snapshot,
 * persisting in-flight records. One module per state.
 */
export interface AlignmentConfig {
  /** EXACTLY_ONCE aligns (or persists in-flight records); AT_LEAST_ONCE never blocks. */
  readonly exactlyOnce: boolean;
  /** FLIP-76: barriers overtake in-flight records, which become channel state. */
  readonly unaligned: boolean;
  /** With `unaligned`: start aligned, switch to unaligned after this long (0: unaligned at once). */
  readonly alignedTimeout: number;
}

interface Common {
  /** The newest checkpoint this task snapshotted or saw aborted: its barriers and older ones are stale. */
  readonly lastHandled: number;
  readonly ended: readonly boolean[];
}

export interface Collecting extends Common {
  readonly checkpointId: number;
  readonly options: CheckpointOptions;
  readonly startedAt: number;
  /** Channels whose barrier of `checkpointId` has arrived. */
  readonly seen: readonly boolean[];
}

export type AlignmentState =
  | (Common & { readonly kind: "waiting-for-first-barrier" })
  /** EXACTLY_ONCE aligned: channels that delivered the barrier are blocked. */
  | (Collecting & { readonly kind: "collecting-aligned" })
  /** Snapshot taken at the first barrier; channels still before their barrier are being recorded. */
  | (Collecting & { readonly kind: "collecting-unaligned" })
  /** AT_LEAST_ONCE: nothing blocked; the snapshot happens at the last barrier. */
  | (Collecting & { readonly kind: "collecting-at-least-once" });

export type AlignmentEvent =
  | { readonly kind: "barrier"; readonly channel: number; readonly checkpointId: number; readonly options: CheckpointOptions; readonly now: number }
  /** A cancellation marker, or the coordinator's abort notification: stop waiting for that checkpoint. */
  | { readonly kind: "cancel"; readonly checkpointId: number; readonly now: number }
  | { readonly kind: "end-of-partition"; readonly channel: number; readonly now: number }
  /** The aligned-checkpoint timeout of `checkpointId` passed. */
  | { readonly kind: "alignment-timeout"; readonly checkpointId: number; readonly now: number };

export interface AlignmentController {
  readonly config: AlignmentConfig;
  block(channel: number): void;
  unblockAll(): void;
  /** Sync phase now, then the barrier goes downstream. `unaligned`: in-flight records follow as channel state. */
  snapshot(checkpointId: number, options: CheckpointOptions, alignmentMs: number, unaligned: boolean): void;
  /** From now until its barrier, records of `channel` belong to the checkpoint's channel state. */
  recordInFlight(channel: number): void;
  /** `channel`'s barrier came: its recording ends (with whatever was queued ahead of the barrier). */
  inFlightDone(channel: number): void;
  /** Every live channel delivered its barrier: the channel state of `checkpointId` is whole. */
  channelStateComplete(checkpointId: number): void;
  /** The checkpoint in progress is abandoned (cancelled, or overtaken by a newer one). */
  abandon(checkpointId: number): void;
  /** Deliver an alignment-timeout event for `checkpointId` at `at`. */
  armTimeout(checkpointId: number, at: number): void;
}

export function allLiveSeen(seen: readonly boolean[], ended: readonly boolean[]): boolean {
  for (let i = 0; i < seen.length; i++) if (!seen[i] && !ended[i]) return false;
  return true;
}

/** allLiveSeen(withChannel(seen, channel), ended), without the copy. */
export function allLiveSeenWith(seen: readonly boolean[], ended: readonly boolean[], channel: number): boolean {
  for (let i = 0; i < seen.length; i++) if (!seen[i] && !ended[i] && i !== channel) return false;
  return true;
}

export function withChannel(a: readonly boolean[], c: number): boolean[] {
  const b = a.slice();
  b[c] = true;
  return b;
}

export function waiting(lastHandled: number, ended: readonly boolean[]): AlignmentState {
  return { kind: "waiting-for-first-barrier", lastHandled, ended };
}

/**
 * A savepoint is always aligned, as in Flink: it must restore at any parallelism. So is the final
 * checkpoint (FLIP-147): it must hold everything before end of input (the last windows fire on
 * the final watermark, queued ahead of its barrier), since no later checkpoint commits them.
 */
export function mayBeUnaligned(o: CheckpointOptions): boolean {
  return !o.savepoint && !o.final;
}
