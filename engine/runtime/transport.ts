import type { Kernel, Runnable } from "../kernel/kernel.ts";
import type { Rng } from "../kernel/rng.ts";

/** A scheduler event that runs a function (restarts, savepoints; never per record). */
export class Call implements Runnable {
  constructor(private readonly fn: () => void) {}
  run(): void {
    this.fn();
  }
}

/** A message that dies with the attempt that sent it: `deliver` runs only if that attempt is still the current one. */
export abstract class RpcMessage implements Runnable {
  constructor(private readonly sent: number, private readonly attempt: () => number) {}
  run(): void {
    if (this.sent === this.attempt()) this.deliver();
  }
  protected abstract deliver(): void;
}

class FnMessage extends RpcMessage {
  constructor(sent: number, attempt: () => number, private readonly fn: () => void) {
    super(sent, attempt);
  }
  protected deliver(): void {
    this.fn();
  }
}

/** A destination whose messages keep their order: when the last one sent to it arrives (-Infinity: none yet). */
export interface RpcEndpoint {
  lastArrival: number;
}

/**
 * Coordinator <-> task messages: each takes a seeded latency in [min, max] virtual ms, so triggers
 * reach sources at different times, as RPCs do, and dies with the attempt that sent it. The
 * checkpoint messages are RpcMessage subclasses (fields, no closures): several go out per checkpoint.
 *
 * Messages to one task arrive in the order they were sent, as over Flink's RPC connection to its
 * TaskExecutor: a later one arrives at least 1 ms after the one before it. Without that, a
 * savepoint's trigger sent at the instant of a periodic one overtook it, the source sent the newer
 * barrier first, and every task took the older one for stale: the periodic checkpoint waited for
 * acks that never came until it expired, and no other could start meanwhile.
 */
export class RpcTransport {
  constructor(private readonly kernel: Kernel, readonly rng: Rng, private readonly min: number, private readonly max: number, readonly attempt: () => number) {}

  send(fn: () => void): void {
    this.post(new FnMessage(this.attempt(), this.attempt, fn));
  }

  /** `message` was made with the current attempt (`this.attempt()`); with `to`, after every message posted to it before. */
  post(message: RpcMessage, to?: RpcEndpoint): void {
    if (to === undefined) return this.kernel.after(this.latency(), message);
    let at = this.kernel.now() + this.latency();
    if (at <= to.lastArrival) at = to.lastArrival + 1;
    to.lastArrival = at;
    this.kernel.at(at, message);
  }

  /** One message's transit time, drawn from the seeded latency range. */
  latency(): number {
    return this.min + this.rng.int(this.max - this.min + 1);
  }
}
