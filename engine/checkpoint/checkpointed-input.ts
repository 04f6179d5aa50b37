import type { Channel } from "../runtime/channel.ts";
import type { StreamElement } from "../runtime/elements.ts";
import type { CheckpointOptions } from "./gateway.ts";
import { mayBeUnaligned } from "./alignment/types.ts";
import { alignmentStep, initialAlignment, type AlignmentConfig, type AlignmentController, type AlignmentEvent, type AlignmentState } from "./alignment/handler.ts";

/** Records of one channel persisted with an unaligned checkpoint, in arrival order. */
export interface InFlightBatch {
  readonly channel: number;
  readonly values: unknown[];
  readonly timestamps: number[];
}

/** What the input asks of its task: take a snapshot, collect channel state, be woken. */
export interface CheckpointedInputOwner {
  snapshot(checkpointId: number, options: CheckpointOptions, alignmentMs: number, unaligned: boolean): void;
  inFlight(checkpointId: number, batch: InFlightBatch): void;
  channelStateComplete(checkpointId: number): void;
  abandon(checkpointId: number): void;
  /** Deliver `onTimeout(checkpointId)` at virtual time `at`. */
  timer(at: number, checkpointId: number): void;
}

/**
 * Flink's CheckpointedInputGate: the task's input channels with barrier handling in front. It
 * is the alignment controller: it blocks channels, lets an unaligned barrier overtake the records
 * queued ahead of it, and records in-flight data as channel state. The task only asks it which
 * channels may be read and hands it every element.
 */
export class CheckpointedInput implements AlignmentController {
  private state: AlignmentState;
  private readonly blocked: boolean[];
  private readonly recording: boolean[];
  /** Records that were queued ahead of an overtaking barrier, per channel, until the handler says whose they are. */
  private readonly ahead: (StreamElement & { kind: "records" })[][];
  private anyBlocked = false;
  /** The unaligned checkpoint whose channel state is being recorded. */
  private recordingFor = 0;

  constructor(
    readonly channels: readonly Channel[],
    readonly config: AlignmentConfig,
    private readonly owner: CheckpointedInputOwner,
    /** Told of each barrier-handling event and the channels blocked after it (a harness's checks). */
    private readonly observe?: (e: AlignmentEvent, blocked: readonly boolean[]) => void,
  ) {
    this.state = initialAlignment(channels.length);
    this.blocked = channels.map(() => false);
    this.recording = channels.map(() => false);
    this.ahead = channels.map(() => []);
  }

  current(): AlignmentState {
    return this.state;
  }

  isBlocked(channel: number): boolean {
    return this.anyBlocked && this.blocked[channel];
  }

  /** True while a barrier may overtake queued records: unaligned configured, and at once or already switched. */
  overtaking(): boolean {
    const c = this.config;
    return c.exactlyOnce && c.unaligned && (c.alignedTimeout <= 0 || this.state.kind === "collecting-unaligned");
  }

  /**
   * Only a barrier that will be handled unaligned may overtake: records it jumps must end up in
   * its channel state. A savepoint's or the final checkpoint's barrier (always aligned), or a newer
   * one that would start aligned (with an aligned-checkpoint timeout), waits its turn.
   */
  private readonly mayOvertake = (b: StreamElement & { kind: "barrier" }): boolean => {
    if (!mayBeUnaligned(b.options)) return false;
    const s = this.state;
    return this.config.alignedTimeout <= 0 || (s.kind === "collecting-unaligned" && b.checkpointId === s.checkpointId);
  };

  /** Unaligned: handles an arrived barrier that overtakes queued records; true if one was handled. */
  pollPriority(now: number): boolean {
    if (!this.overtaking()) return false;
    for (let c = 0; c < this.channels.length; c++) {
      const t = this.channels[c].takeBarrier(now, this.mayOvertake);
      if (!t) continue;
      this.ahead[c] = t.ahead;
      this.onBarrier(c, t.barrier.checkpointId, t.barrier.options, now);
      this.ahead[c] = [];
      return true;
    }
    return false;
  }

  /** Earliest time a queued barrier could overtake (Infinity when none or not unaligned). */
  nextPriorityAt(): number {
    if (!this.overtaking()) return Infinity;
    let at = Infinity;
    for (const ch of this.channels) at = Math.min(at, ch.barrierAt(this.mayOvertake));
    return at;
  }

  /** Records read from `channel`: part of the channel state if it is being recorded. */
  onRecords(channel: number, values: unknown[], timestamps: number[]): void {
    if (this.recording[channel]) this.owner.inFlight(this.recordingFor, { channel, values, timestamps });
  }

  onBarrier(channel: number, checkpointId: number, options: CheckpointOptions, now: number): void {
    this.step({ kind: "barrier", channel, checkpointId, options, now });
  }
  onEndOfPartition(channel: number, now: number): void {
    this.step({ kind: "end-of-partition", channel, now });
  }
  onCancel(checkpointId: number, now: number): void {
    this.step({ kind: "cancel", checkpointId, now });
  }
  onTimeout(checkpointId: number, now: number): void {
    this.step({ kind: "alignment-timeout", checkpointId, now });
  }

  private step(e: AlignmentEvent): void {
    this.state = alignmentStep(this.state, e, this);
    this.observe?.(e, this.blocked);
  }

  // ---- AlignmentController ----

  block(channel: number): void {
    this.blocked[channel] = true;
    this.anyBlocked = true;
  }
  unblockAll(): void {
    this.blocked.fill(false);
    this.anyBlocked = false;
  }
  snapshot(checkpointId: number, options: CheckpointOptions, alignmentMs: number, unaligned: boolean): void {
    if (unaligned) this.recordingFor = checkpointId;
    this.owner.snapshot(checkpointId, options, alignmentMs, unaligned);
  }
  recordInFlight(channel: number): void {
    this.recording[channel] = true;
  }
  inFlightDone(channel: number): void {
    if (!this.recording[channel]) return;
    for (const r of this.ahead[channel]) this.owner.inFlight(this.recordingFor, { channel, values: r.values, timestamps: r.timestamps });
    this.recording[channel] = false;
  }
  channelStateComplete(checkpointId: number): void {
    this.recording.fill(false);
    this.owner.channelStateComplete(checkpointId);
  }
  abandon(checkpointId: number): void {
    this.recording.fill(false);
    this.owner.abandon(checkpointId);
  }
  armTimeout(checkpointId: number, at: number): void {
    this.owner.timer(at, checkpointId);
  }
}
