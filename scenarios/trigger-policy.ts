import type { CheckpointFailureReasonKey } from "../engine/checkpoint/failure-reason.ts";
import type { CheckpointObserver } from "../engine/runtime/job-spec.ts";
import { count } from "../reports/messages.ts";
import { PROPERTIES } from "./checkers.ts";
import { PropertyCheck } from "./property-check.ts";
import { missedTrigger, type CadenceEvent } from "./trigger-cadence.ts";

export interface TriggerRules {
  readonly intervalMs: number;
  readonly maxConcurrent: number;
  readonly minPauseMs: number;
  readonly timeoutMs: number;
}

/**
 * The coordinator triggers, expires and aborts checkpoints as configured, as Flink's
 * CheckpointRequestDecider, its checkpoint canceller and its handling of declines do:
 * - a checkpoint other than a savepoint is triggered only while fewer than max-concurrent
 *   checkpoints (savepoints included) are pending;
 * - a periodic one no sooner than the minimum pause after the last completion in this process
 *   (the final checkpoint at the end of input does not wait for it, a savepoint ignores both);
 * - a pending checkpoint expires exactly when its timeout has passed since its trigger: none
 *   completes later, none expires sooner, none is still pending afterwards;
 * - a pending checkpoint a task declines fails as the decline arrives, for the decline's reason
 *   (Flink's receiveDeclineMessage aborts it at once): it neither completes nor waits to expire;
 * - every trigger takes a new id: higher than the ids this process triggered before, and than
 *   every checkpoint completed earlier in the run (a reused id writes over a stored checkpoint);
 * - periodic checkpoints come on time (trigger-cadence.ts), judged when the process ends.
 * The model counts pending checkpoints itself from the coordinator's own reports (triggered,
 * completed, ended otherwise). Output checks cannot see these rules broken: one checkpoint too
 * many, or one that never expires, still commits the right windows.
 */
export class TriggerPolicyCheck extends PropertyCheck {
  protected readonly property = PROPERTIES.triggerPolicy;
  private triggers = 0;
  private expiries = 0;
  private declined = 0;
  /** Per process (a new process's coordinator starts with nothing pending and no completion): trigger time by id. */
  private pending = new Map<number, number>();
  private lastCompletion = -Infinity;
  private lastCompleted = 0;
  private highestTriggered = 0;
  /** This process's triggers and ends, for the cadence. */
  private events: CadenceEvent[] = [];
  /** The highest id completed in the run, any process. */
  private highestCompleted = 0;
  /** Pending checkpoints of this process a task declined: when, by whom, why. */
  private declines = new Map<number, { readonly time: number; readonly task: string; readonly reason: CheckpointFailureReasonKey }>();

  constructor(private readonly rules: TriggerRules) {
    super();
  }

  startProcess(): CheckpointObserver {
    this.pending = new Map();
    this.lastCompletion = -Infinity;
    this.highestTriggered = 0;
    this.events = [];
    this.declines = new Map();
    return {
      started: (time) => this.events.push({ kind: "start", time }),
      stopped: (time) => this.events.push({ kind: "stop", time }),
      triggered: (id, kind, time, stop) => {
        this.overdue(time);
        this.triggers++;
        const { maxConcurrent, minPauseMs } = this.rules;
        if (id <= this.highestTriggered) this.problem(`checkpoint ${id} was triggered after checkpoint ${this.highestTriggered} in the same process: ids must only grow`);
        else if (id <= this.highestCompleted) this.problem(`checkpoint ${id} was triggered, but checkpoint ${this.highestCompleted} had completed earlier in the run: a reused id writes over a stored checkpoint`);
        this.highestTriggered = Math.max(this.highestTriggered, id);
        if (kind !== "savepoint" && this.pending.size >= maxConcurrent)
          this.problem(`checkpoint ${id} was triggered while ${this.pending.size} were pending (${[...this.pending.keys()].join(", ")}): max-concurrent-checkpoints is ${maxConcurrent}`);
        if (kind === "periodic" && time < this.lastCompletion + minPauseMs)
          this.problem(`checkpoint ${id} was triggered ${time - this.lastCompletion} ms after checkpoint ${this.lastCompleted} completed: the minimum pause is ${minPauseMs} ms`);
        this.pending.set(id, time);
        this.events.push({ kind: "trigger", time, id, trigger: kind === "savepoint" && stop ? "stop" : kind });
      },
      completed: (c) => {
        const d = this.declines.get(c.checkpointId);
        if (d !== undefined) this.problem(`checkpoint ${c.checkpointId} completed at ${c.time}, but ${d.task} had declined it at ${d.time} (${d.reason}): a decline aborts it as it arrives`);
        this.declines.delete(c.checkpointId);
        this.overdue(c.time);
        const at = this.pending.get(c.checkpointId);
        if (at === undefined) this.problem(`checkpoint ${c.checkpointId} completed, but it was not pending`);
        else if (c.time - at > this.rules.timeoutMs) this.problem(`checkpoint ${c.checkpointId} completed ${c.time - at} ms after its trigger: its timeout (${this.rules.timeoutMs} ms) had passed, so it should have expired`);
        this.pending.delete(c.checkpointId);
        this.events.push({ kind: "end", time: c.time, id: c.checkpointId, completed: true });
        this.lastCompletion = c.time;
        this.lastCompleted = c.checkpointId;
        this.highestCompleted = Math.max(this.highestCompleted, c.checkpointId);
      },
      failed: (id, reason, _savepoint, time) => {
        const at = this.pending.get(id);
        this.pending.delete(id);
        this.events.push({ kind: "end", time, id, completed: false });
        const d = this.declines.get(id);
        if (d !== undefined && (d.time !== time || d.reason !== reason)) this.problem(`checkpoint ${id} was declined by ${d.task} at ${d.time} (${d.reason}), but failed at ${time} (${reason}): a decline aborts it as it arrives`);
        this.declines.delete(id);
        this.overdue(time);
        if (at === undefined) return this.problem(`checkpoint ${id} ended (${reason}), but it was not pending`);
        if (reason !== "CHECKPOINT_EXPIRED") return;
        this.expiries++;
        if (time - at !== this.rules.timeoutMs) this.problem(`checkpoint ${id} expired ${time - at} ms after its trigger: its timeout is ${this.rules.timeoutMs} ms`);
      },
      declined: (id, task, reason, time) => {
        if (!this.pending.has(id) || this.declines.has(id)) return;
        this.declined++;
        this.declines.set(id, { time, task, reason });
      },
    };
  }

  /** The process ended (finished, failed, or killed): were its periodic checkpoints on time? */
  endProcess(): void {
    const missed = missedTrigger(this.events, this.rules);
    if (missed !== undefined) this.problem(missed);
  }

  /** Anything still pending past its timeout, or after a decline, at `time` should have ended by now. */
  private overdue(time: number): void {
    for (const [id, d] of this.declines) {
      if (time === d.time) continue;
      this.problem(`checkpoint ${id} was still pending at ${time}, though ${d.task} had declined it at ${d.time} (${d.reason}): a decline aborts it as it arrives`);
      this.declines.delete(id); // said once
    }
    for (const [id, at] of this.pending) {
      if (time - at <= this.rules.timeoutMs) continue;
      this.problem(`checkpoint ${id} was still pending ${time - at} ms after its trigger: its timeout (${this.rules.timeoutMs} ms) had passed, so it should have expired`);
      this.pending.delete(id); // said once
    }
  }

  protected passed(): string {
    return `${count(this.triggers, "trigger")}, ${count(this.expiries, "expiry", "expiries")}, ${count(this.declined, "decline")}: every ${this.rules.intervalMs} ms, at most ${this.rules.maxConcurrent} pending, ${this.rules.minPauseMs} ms pause, ${this.rules.timeoutMs} ms timeout, new ids`;
  }
}
