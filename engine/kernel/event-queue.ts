/** A queued event; recycled once run (a scheduler event per record batch and seven or more per checkpoint: issue 11). */
export interface Ev<T> {
  time: number;
  tie: number;
  seq: number;
  target: T | undefined;
}

/**
 * The scheduler's queue: a binary min-heap on (time, tie, seq), with the order written into both
 * sifts. The generic MinHeap calls its comparator through a field, and since the timer service's
 * heap has another comparator that call is polymorphic and never inlined: every event paid it
 * about three times (issue 11: seven events a checkpoint, one a record batch).
 */
export class EventQueue<T> {
  private items: Ev<T>[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Ev<T> | undefined {
    return this.items[0];
  }

  toArray(): Ev<T>[] {
    return this.items.slice();
  }

  clear(): void {
    this.items = [];
  }

  // Both sifts move a hole instead of swapping pairs: one write per level, no temporaries.
  push(x: Ev<T>): void {
    const h = this.items;
    let i = h.length;
    h.push(x);
    const t = x.time, tie = x.tie, seq = x.seq;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const hp = h[p];
      // x < hp ?
      if (t > hp.time || (t === hp.time && (tie > hp.tie || (tie === hp.tie && seq > hp.seq)))) break;
      h[i] = hp;
      i = p;
    }
    h[i] = x;
  }

  pop(): Ev<T> | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    const n = h.length;
    if (n > 0 && last !== undefined) {
      const t = last.time, tie = last.tie, seq = last.seq;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let m = l;
        let c = h[l];
        if (r < n) {
          const b = h[r];
          if (b.time < c.time || (b.time === c.time && (b.tie < c.tie || (b.tie === c.tie && b.seq < c.seq)))) {
            m = r;
            c = b;
          }
        }
        // stop unless c < last
        if (!(c.time < t || (c.time === t && (c.tie < tie || (c.tie === tie && c.seq < seq))))) break;
        h[i] = c;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}
