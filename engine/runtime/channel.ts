import type { StreamElement } from "./elements.ts";

/** Wakes the consuming task when an element becomes available. */
export interface ChannelReceiver {
  wake(at: number): void;
}

/**
 * One FIFO link from an upstream subtask to a downstream one. Latency is drawn per batch by
 * the sender, but an element never becomes available before the one sent ahead of it, so
 * the seeded scheduler can reorder tasks without ever reordering a channel.
 */
export class Channel {
  private els: StreamElement[] = [];
  private ats: number[] = [];
  private head = 0;
  private lastAt = -Infinity;
  /** Barriers queued: only unaligned checkpoints look past the head for one, and only when this is > 0. */
  private barriers = 0;

  constructor(readonly name: string, private readonly receiver: ChannelReceiver) {}

  send(el: StreamElement, availableAt: number): void {
    const at = availableAt < this.lastAt ? this.lastAt : availableAt;
    this.lastAt = at;
    this.els.push(el);
    this.ats.push(at);
    if (el.kind === "barrier") this.barriers++;
    this.receiver.wake(at);
  }

  /** True when the head element is available at `now`. */
  ready(now: number): boolean {
    return this.head < this.els.length && this.ats[this.head] <= now;
  }

  /** Time the head element becomes available, or Infinity when empty. */
  nextAt(): number {
    return this.head < this.els.length ? this.ats[this.head] : Infinity;
  }

  poll(): StreamElement {
    const el = this.els[this.head];
    this.els[this.head] = undefined as never;
    this.head++;
    if (el.kind === "barrier") this.barriers--;
    if (this.head > 1024 && this.head * 2 > this.els.length) {
      this.els = this.els.slice(this.head);
      this.ats = this.ats.slice(this.head);
      this.head = 0;
    }
    return el;
  }

  /**
   * Unaligned checkpoints: the first queued barrier, if it has arrived by `now`, leaves the queue
   * ahead of the records in front of it (which stay queued, to be processed after it); those
   * records are returned, as they are the in-flight data the checkpoint must persist.
   */
  takeBarrier(now: number, accept: (barrier: StreamElement & { kind: "barrier" }) => boolean): { barrier: StreamElement & { kind: "barrier" }; ahead: (StreamElement & { kind: "records" })[] } | undefined {
    if (this.barriers === 0) return undefined;
    const ahead: (StreamElement & { kind: "records" })[] = [];
    for (let i = this.head; i < this.els.length; i++) {
      const el = this.els[i];
      if (el.kind === "records") ahead.push(el);
      else if (el.kind === "barrier") {
        if (this.ats[i] > now || !accept(el)) return undefined;
        this.els.splice(i, 1);
        this.ats.splice(i, 1);
        this.barriers--;
        return { barrier: el, ahead };
      }
    }
    return undefined;
  }

  /** Time the first queued barrier arrives, if `accept` lets it overtake (Infinity: none such). */
  barrierAt(accept: (barrier: StreamElement & { kind: "barrier" }) => boolean): number {
    if (this.barriers === 0) return Infinity;
    for (let i = this.head; i < this.els.length; i++) {
      const el = this.els[i];
      if (el.kind === "barrier") return accept(el) ? this.ats[i] : Infinity;
    }
    return Infinity;
  }
}
