import type { KeyType } from "./keygroups.ts";
import { MinHeap } from "../kernel/min-heap.ts";
import type { KeyGroupRange } from "./keygroups.ts";

/** A window, or another scope within a key's state (Flink's namespace). Here, since timers carry it too. */
export type Namespace = number | string;

/** One event-time timer: fire `namespace` of `key` when the watermark reaches `timestamp`. */
export interface Timer {
  readonly timestamp: number;
  readonly key: KeyType;
  readonly keyGroup: number;
  readonly namespace: Namespace;
}

export interface TimerSnapshot {
  readonly keyGroup: number;
  readonly timers: [number, KeyType, Namespace][];
}

/** What a keyed operator needs of its event-time timers; the heap version is below, the lmdb one in state/kv. */
export interface TimerQueue {
  register(key: KeyType, keyGroup: number, namespace: Namespace, timestamp: number): void;
  /** Pops every timer due at `watermark`, in firing order, calling `fire` for each. */
  advance(watermark: number, fire: (t: Timer) => void): void;
  size(): number;
  snapshot(): TimerSnapshot[];
  restore(snaps: Iterable<TimerSnapshot>, range: KeyGroupRange): void;
}

function cmp(a: Timer, b: Timer): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  if (a.keyGroup !== b.keyGroup) return a.keyGroup - b.keyGroup;
  if (a.key !== b.key) return String(a.key) < String(b.key) ? -1 : 1;
  if (a.namespace !== b.namespace) return String(a.namespace) < String(b.namespace) ? -1 : 1;
  return 0;
}

/**
 * Event-time timers of one keyed operator (Flink's InternalTimerService). A timer is
 * registered at most once per (key, namespace, timestamp); firing order is total
 * (time, key group, key, namespace), so it never depends on insertion order.
 */
export class TimerService implements TimerQueue {
  private readonly heap = new MinHeap<Timer>((a, b) => cmp(a, b) < 0);
  private readonly set = new Set<string>();
  /**
   * The last snapshot, kept until a timer is added or fires: between two checkpoints of a window
   * job the timers rarely change (once per window), so most checkpoints reuse it instead of
   * sorting the heap again. Snapshots are read-only for every consumer (they copy what they change).
   */
  private cached: TimerSnapshot[] | undefined;

  register(key: KeyType, keyGroup: number, namespace: Namespace, timestamp: number): void {
    const id = `${timestamp}\u0000${keyGroup}\u0000${typeof key}${key}\u0000${namespace}`;
    if (this.set.has(id)) return;
    this.set.add(id);
    this.cached = undefined;
    this.heap.push({ timestamp, key, keyGroup, namespace });
  }

  /** Pops every timer due at `watermark`, in order, calling `fire` for each. */
  advance(watermark: number, fire: (t: Timer) => void): void {
    while (this.heap.size > 0 && this.heap.peek()!.timestamp <= watermark) {
      const t = this.heap.pop()!;
      this.cached = undefined;
      this.set.delete(`${t.timestamp}\u0000${t.keyGroup}\u0000${typeof t.key}${t.key}\u0000${t.namespace}`);
      fire(t);
    }
  }

  size(): number {
    return this.heap.size;
  }

  snapshot(): TimerSnapshot[] {
    if (this.cached !== undefined) return this.cached;
    const by = new Map<number, TimerSnapshot>();
    for (const t of this.heap.toArray().sort(cmp)) {
      let g = by.get(t.keyGroup);
      if (!g) by.set(t.keyGroup, (g = { keyGroup: t.keyGroup, timers: [] }));
      g.timers.push([t.timestamp, t.key, t.namespace]);
    }
    return (this.cached = [...by.values()].sort((a, b) => a.keyGroup - b.keyGroup));
  }

  restore(snaps: Iterable<TimerSnapshot>, range: KeyGroupRange): void {
    for (const g of snaps) {
      if (g.keyGroup < range.start || g.keyGroup > range.end) continue;
      for (const [ts, key, ns] of g.timers) this.register(key, g.keyGroup, ns, ts);
    }
  }
}
