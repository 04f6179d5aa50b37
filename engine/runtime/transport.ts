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

/**
 * Coordinator <-> task messages: each takes a seeded latency in [min, max] virtual ms, so triggers
 * reach sources at different times, as RPCs do, and dies with the attempt that sent it. The
 * checkpoint messages are RpcMessage subclasses (fields, no closures): several go out per checkpoint.
 */
export class RpcTransport {
  constructor(private readonly kernel: Kernel, readonly rng: Rng, private readonly min: number, private readonly max: number, readonly attempt: () => number) {}

  send(fn: () => void): void {
    this.post(new FnMessage(this.attempt(), this.attempt, fn));
  }

  /** `message` was made with the current attempt (`this.attempt()`). */
  post(message: RpcMessage): void {
    this.kernel.after(this.latency(), message);
  }

  /** One message's transit time, drawn from the seeded latency range. */
  latency(): number {
    return this.min + this.rng.int(this.max - this.min + 1);
  }
}
