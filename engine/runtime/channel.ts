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

  constructor(readonly name: string, private readonly receiver: ChannelReceiver) {}

  send(el: StreamElement, availableAt: number): void {
    const at = availableAt < this.lastAt ? this.lastAt : availableAt;
    this.lastAt = at;
    this.els.push(el);
    this.ats.push(at);
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
    if (this.head > 1024 && this.head * 2 > this.els.length) {
      this.els = this.els.slice(this.head);
      this.ats = this.ats.slice(this.head);
      this.head = 0;
    }
    return el;
  }

}
