import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { Rng } from "../kernel/rng.ts";

/** A scheduler event that runs a function (RPCs and restarts; never per record). */
export class Call implements Runnable {
  constructor(private readonly fn: () => void) {}
  run(): void {
    this.fn();
  }
}

/**
 * Coordinator <-> task messages: each takes a seeded latency in [min, max] virtual ms, so triggers
 * reach sources at different times, as RPCs do, and dies with the attempt that sent it.
 */
export class RpcTransport {
  constructor(private readonly kernel: Kernel, readonly rng: Rng, private readonly min: number, private readonly max: number, private readonly attempt: () => number) {}

  send(fn: () => void): void {
    const sent = this.attempt();
    this.kernel.after(this.min + this.rng.int(this.max - this.min + 1), new Call(() => {
      if (sent === this.attempt()) fn();
    }));
  }
}
