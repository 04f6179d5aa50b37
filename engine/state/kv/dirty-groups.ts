import type { Slot } from "./kv-state-handles.ts";

/**
 * The kv backend's dirty slots (its write buffer), listed per key group. The key group leads
 * the lmdb key, so a flush that writes group after group walks lmdb's B-tree from left to
 * right, a group's few pages at a time (100k keys in 128 groups: about 13 leaf pages each),
 * instead of jumping across the whole tree per put. Sorting inside a group too (by key,
 * namespace, state name) was measured: its comparisons cost more than the locality they add.
 * Order changes nothing that is written: a buffer never holds two live slots of one lmdb key.
 *
 * Per-group lists also let a flush take a few whole groups (takeRun) without touching the
 * slots of the others, whose memory is cold by then.
 */
export class DirtyGroups {
  private readonly groups: Slot[][];
  /** Slots listed. */
  size = 0;
  /** Listed slots deleted with no row in lmdb (nothing to write); compact() drops them. Kept by the backend's tombstone. */
  dead = 0;
  /** Where the next takeRun() starts: the group after the last one it took. */
  private next = 0;

  constructor(private readonly start: number, width: number) {
    this.groups = Array.from({ length: width }, () => []);
  }

  add(s: Slot): void {
    this.groups[s.kg - this.start]!.push(s);
    this.size++;
  }

  /** Every listed slot, in key-group order; the list is left empty. */
  takeAll(): Slot[] {
    const out: Slot[] = new Array(this.size);
    let k = 0;
    for (const g of this.groups) {
      for (let j = 0; j < g.length; j++) out[k++] = g[j]!;
      g.length = 0;
    }
    this.size = this.dead = 0;
    return out;
  }

  /**
   * The slots of a run of groups, from where the last run stopped (wrapping: round-robin, so
   * every group is written within a sweep), until at least `want` are taken.
   */
  takeRun(want: number): Slot[] {
    const { groups } = this;
    const out: Slot[] = [];
    let g = this.next;
    let dead = 0;
    for (let k = 0; k < groups.length && out.length < want; k++, g = g + 1 === groups.length ? 0 : g + 1) {
      const list = groups[g]!;
      for (let j = 0; j < list.length; j++) {
        const s = list[j]!;
        if (s.del && !s.inDb) dead++;
        out.push(s);
      }
      list.length = 0;
    }
    this.next = g;
    this.size -= out.length;
    this.dead = Math.max(0, this.dead - dead);
    return out;
  }

  /** Lists taken slots again (their transaction failed), dead ones counted as such. */
  putBack(slots: readonly Slot[]): void {
    for (const s of slots) {
      this.add(s);
      if (s.del && !s.inDb) this.dead++;
    }
  }

  /** Drops listed slots that have nothing to write (deleted, no row in lmdb); they become clean. */
  compact(): void {
    let size = 0;
    for (const list of this.groups) {
      let k = 0;
      for (let j = 0; j < list.length; j++) {
        const s = list[j]!;
        if (s.del && !s.inDb) s.dirty = false;
        else list[k++] = s;
      }
      list.length = k;
      size += k;
    }
    this.size = size;
    this.dead = 0;
  }

  clear(): void {
    for (const list of this.groups) list.length = 0;
    this.size = this.dead = 0;
  }
}
