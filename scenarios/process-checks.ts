import type { CheckpointObserver } from "../engine/runtime/job-spec.ts";
import type { FailureEvent, RestoreEvent } from "../engine/checkpoint/stats.ts";
import type { CheckResult } from "./checkers.ts";

/**
 * How a process ended, as far as what was due after its last event goes: "finished", "failed"
 * (the job gave up), "stopped" (killed, or canceled at the liveness bound: what was due after its
 * last event never came, and that says nothing).
 */
export type ProcessEnd = "finished" | "failed" | "stopped";

/** One process of a run as the job recorded it: its failures and restores, and how it ended. */
export interface ProcessRecord {
  readonly failures: readonly FailureEvent[];
  readonly restores: readonly RestoreEvent[];
  readonly end: ProcessEnd;
  /** Whether anything of checkpoint `id` is left in the job's checkpoint storage now (absent after a kill). */
  readonly holds?: (checkpointId: number) => boolean;
}

/** A check that watches each process of a run (the coordinator's reports, then its record) and judges the whole run. */
export interface RunCheck {
  startProcess?(): CheckpointObserver;
  endProcess?(p: ProcessRecord): void;
  result(): CheckResult;
}

const REPORTS = ["started", "stopped", "triggered", "completed", "failed", "declined", "inputHandled"] as const satisfies readonly (keyof CheckpointObserver)[];
// Every kind of report is passed on: a report added to CheckpointObserver and missing here fails to compile.
const everyReport: [Exclude<keyof CheckpointObserver, (typeof REPORTS)[number]>] extends [never] ? true : never = true;
void everyReport;

/** Several run checks as one: each process's reports go to every check, in the checks' order. */
export class RunChecks {
  constructor(private readonly checks: readonly RunCheck[]) {}

  startProcess(): CheckpointObserver {
    const observers = this.checks.flatMap((c) => (c.startProcess ? [c.startProcess()] : []));
    const all: Record<string, (...args: never[]) => void> = {};
    for (const k of REPORTS) {
      const each = observers.flatMap((o) => (o[k] ? [o[k] as (...args: unknown[]) => void] : []));
      if (each.length) all[k] = (...args: unknown[]) => {
        for (const f of each) f(...args);
      };
    }
    return all as CheckpointObserver;
  }

  endProcess(p: ProcessRecord): void {
    for (const c of this.checks) c.endProcess?.(p);
  }

  results(): CheckResult[] {
    return this.checks.map((c) => c.result());
  }
}
