import type { Kernel } from "../kernel/kernel.ts";
import { Call } from "./transport.ts";
import type { JobSpec } from "./job-spec.ts";

/** What a savepoint needs from the job: whether it runs, how to trigger, how to stop. */
export interface SavepointHost {
  readonly kernel: Kernel;
  isRunning(): boolean;
  trigger(storage: NonNullable<JobSpec["savepoint"]>["storage"]): void;
  /** Stop-with-savepoint: the savepoint is complete and every task has been told. */
  stop(checkpointId: number): void;
}

/**
 * The user's savepoint at a virtual time (Flink's `flink savepoint` / `flink stop`): triggered
 * once, re-armed after a failover that came before it, and with `stop` the job ends once every
 * task has had the completion (and committed).
 */
export class SavepointTrigger {
  /** The savepoint's checkpoint id once complete (its directory is chk-<id> under the savepoint storage). */
  completedId?: number;

  constructor(private readonly spec: JobSpec["savepoint"], private readonly host: SavepointHost, private readonly rpcLatencyMax: number) {}

  /** At start, and after each restart: arms the trigger if it is still ahead. */
  arm(): void {
    const sp = this.spec;
    if (!sp || this.completedId !== undefined || sp.at < this.host.kernel.now()) return;
    this.host.kernel.at(sp.at, new Call(() => {
      if (this.host.isRunning()) this.host.trigger(sp.storage);
    }));
  }

  completed(checkpointId: number): void {
    this.completedId = checkpointId;
    if (!this.spec?.stop) return;
    // The notification RPCs take at most rpcLatencyMax: stop once they have all arrived.
    this.host.kernel.after(this.rpcLatencyMax + 1, new Call(() => {
      if (this.host.isRunning()) this.host.stop(checkpointId);
    }));
  }
}
