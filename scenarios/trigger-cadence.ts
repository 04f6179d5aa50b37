import type { TriggerKind } from "../engine/checkpoint/trigger-policy.ts";

/** What the coordinator reported of one process, in its order. */
export type CadenceEvent =
  | { readonly kind: "trigger"; readonly time: number; readonly id: number; readonly trigger: TriggerKind }
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
 * interval after the previous trigger (of any kind) or the deploy that started triggering; if as
 * many as allowed are pending then, it is due when one of them ends; and no sooner than the
 * minimum pause after the last completion. A pending savepoint holds it back (a stop suspends
 * periodic checkpoints) until it fails; once it completed, the job is stopping. Nothing is due
 * between a failover and the next deploy. Only what the process lived past is judged: a deadline
 * is missed when a later event comes with no trigger before it. Returns the first miss, or
 * undefined.
 */
export function missedTrigger(events: readonly CadenceEvent[], r: CadenceRules): string | undefined {
  const pending = new Set<number>();
  let due: number | undefined; // the interval's deadline; undefined: nothing due
  let afterEnd = false; // due at the next end: as many as allowed were pending at the deadline
  let savepoint: number | undefined; // a pending savepoint's id
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
        lastTrigger = e.time;
        afterEnd = false;
        due = e.time + r.intervalMs;
        if (e.trigger === "savepoint") savepoint = e.id;
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
