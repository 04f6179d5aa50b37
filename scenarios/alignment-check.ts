import type { AlignmentEvent } from "../engine/checkpoint/alignment/types.ts";
import type { CheckpointObserver } from "../engine/runtime/job-spec.ts";
import { count } from "../reports/messages.ts";
import { PROPERTIES } from "./checkers.ts";
import { PropertyCheck } from "./property-check.ts";

/** What the check knows of one task's input channels, from the events the task reported. */
interface Channels {
  /** The newest barrier that came on each channel (0: none yet). */
  readonly lastBarrier: number[];
  readonly ended: boolean[];
  /** The newest checkpoint the task heard was aborted. */
  aborted: number;
}

/**
 * Barrier alignment holds a channel back only while its checkpoint is being aligned, as Flink's
 * barrier handler does: a task may block a channel only after a barrier came on it, only while
 * that barrier's checkpoint is neither aborted (the abort notice, or a cancellation marker, ends
 * the alignment and releases every channel) nor aligned already (some other live channel has not
 * delivered it yet). Checked after every barrier, abort notice, end of partition and alignment
 * timeout a task handles, against the channels its input gate reports blocked. The model is this
 * file's, not the engine's: it knows only which barrier came last on each channel and the newest
 * abort the task heard. A channel kept blocked after an abort stalls the task until a failover
 * (its checkpoints expire until the tolerable failures run out), and the output stays exact.
 */
export class AlignmentCheck extends PropertyCheck {
  protected readonly property = PROPERTIES.alignment;
  private events = 0;
  private blockings = 0;
  /** This process's tasks by name and attempt (a restarted task aligns afresh). */
  private tasks = new Map<string, Channels>();

  startProcess(): CheckpointObserver {
    this.tasks = new Map();
    return { inputHandled: (task, attempt, e, blocked) => this.handled(task, attempt, e, blocked) };
  }

  private handled(task: string, attempt: number, e: AlignmentEvent, blocked: readonly boolean[]): void {
    this.events++;
    const key = `${task}@${attempt}`;
    let t = this.tasks.get(key);
    if (t === undefined) this.tasks.set(key, (t = { lastBarrier: blocked.map(() => 0), ended: blocked.map(() => false), aborted: 0 }));
    switch (e.kind) {
      // An older barrier can follow a newer one on a channel (the source heard the older trigger
      // later); it is stale, and the channel still belongs to the newer checkpoint.
      case "barrier": t.lastBarrier[e.channel] = Math.max(t.lastBarrier[e.channel], e.checkpointId); break;
      case "cancel": t.aborted = Math.max(t.aborted, e.checkpointId); break;
      case "end-of-partition": t.ended[e.channel] = true; break;
      case "alignment-timeout": break;
    }
    for (let c = 0; c < blocked.length; c++) {
      if (!blocked[c]) continue;
      if (e.kind === "barrier" && e.channel === c && e.checkpointId === t.lastBarrier[c]) this.blockings++;
      const n = t.lastBarrier[c];
      const at = `${task} (attempt ${attempt}) at ${e.now}, after ${describe(e)}`;
      if (n === 0) return this.problem(`${at}: channel ${c} was blocked before any barrier came on it`);
      if (n <= t.aborted) return this.problem(`${at}: channel ${c} was still blocked for checkpoint ${n}, which the task had heard was aborted (checkpoint ${t.aborted})`);
      let behind = false;
      for (let o = 0; o < blocked.length && !behind; o++) behind = o !== c && !t.ended[o] && t.lastBarrier[o] < n;
      if (!behind) return this.problem(`${at}: channel ${c} was still blocked for checkpoint ${n}, though every live channel had delivered its barrier: the alignment was complete`);
    }
  }

  protected passed(): string {
    return `${count(this.events, "barrier-handling event")}, ${count(this.blockings, "channel blocked", "channels blocked")}: each only while its checkpoint was being aligned`;
  }
}

function describe(e: AlignmentEvent): string {
  switch (e.kind) {
    case "barrier": return `barrier ${e.checkpointId} on channel ${e.channel}`;
    case "cancel": return `the abort of checkpoint ${e.checkpointId}`;
    case "end-of-partition": return `the end of channel ${e.channel}`;
    case "alignment-timeout": return `the aligned-checkpoint timeout of checkpoint ${e.checkpointId}`;
  }
}
