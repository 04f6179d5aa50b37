import type { TriggerKind } from "../engine/checkpoint/trigger-policy.ts";

/** What the coordinator reported of one process, in its order. */
export type CadenceEvent =
  /** `stop`: a stop-with-savepoint's savepoint; `savepoint`: one that does not stop the job. */
  | { readonly kind: "trigger"; readonly time: number; readonly id: number; readonly trigger: TriggerKind | "stop" }
  | { readonly kind: "end"; readonly time: number; readonly id: number; readonly completed: boolean }
  /** Periodic triggering started (a deploy), or a failover stopped it. */
  | { readonly kind: "start" | "stop"; readonly time: number };

export interface CadenceRules {
  readonly intervalMs: number;
  readonly maxConcurrent: number;
  readonly minPauseMs: number;
}

/**
 * Periodic checkpoints come on time, as Flink's periodic trigger does: the next one is due an
 * interval after the previous periodic (or final) trigger or the deploy that started triggering;
 * if as many as allowed are pending then (savepoints count), it is due when one of them ends; and
 * no sooner than the minimum pause after the last completion (savepoints' too). A savepoint that
 * does not stop the job leaves the schedule as it was: Flink's timer runs on beside it. A stop's
 * savepoint suspends periodic checkpoints until it fails (then the next is due an interval after
 * the stop's trigger, or at once); once it completed, the job is stopping. Nothing is due between
 * a failover and the next deploy. Only what the process lived past is judged: a deadline is
 * missed when a later event comes with no trigger before it. Returns the first miss, or undefined.
 */
export function missedTrigger(events: readonly CadenceEvent[], r: CadenceRules): string | undefined {
  const pending = new Set<number>();
  let due: number | undefined; // the interval's deadline; undefined: nothing due
  let afterEnd = false; // due at the next end: as many as allowed were pending at the deadline
  let savepoint: number | undefined; // a pending stop's savepoint id
  let lastCompletion = -Infinity;
  let lastTrigger = -Infinity;
  for (const e of events) {
    if (due !== undefined && !afterEnd && savepoint === undefined && e.time > due) {
      if (pending.size >= r.maxConcurrent) afterEnd = true;
      else {
        const deadline = Math.max(due, lastCompletion + r.minPauseMs);
        if (e.time > deadline) return `no checkpoint was triggered between ${deadline} (${deadline - lastTrigger} ms after the last trigger, at ${lastTrigger}) and ${e.time}: the interval is ${r.intervalMs} ms, ${pending.size} pending of ${r.maxConcurrent} allowed, the minimum pause ${r.minPauseMs} ms`;
      }
    }
    switch (e.kind) {
      case "trigger":
        pending.add(e.id);
        if (e.trigger === "savepoint") break;
        lastTrigger = e.time;
        afterEnd = false;
        due = e.time + r.intervalMs;
        if (e.trigger === "stop") savepoint = e.id;
        break;
      case "end":
        pending.delete(e.id);
        if (e.completed) lastCompletion = e.time;
        if (e.id === savepoint) {
          // A failed stop resumes periodic checkpoints; a completed one ends the job (unless a
          // failover cancels the stop: then the restart says when).
          savepoint = undefined;
          due = e.completed ? undefined : Math.max(lastTrigger + r.intervalMs, e.time);
        } else if (afterEnd) {
          afterEnd = false;
          due = e.time;
        }
        break;
      case "stop":
        pending.clear();
        savepoint = undefined;
        due = undefined;
        afterEnd = false;
        break;
      case "start":
        lastTrigger = e.time;
        due = e.time + r.intervalMs;
        break;
    }
  }
  return undefined;
}
