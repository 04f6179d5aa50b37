import { removeAt } from "../kernel/remove-at.ts";

/**
 * The few checkpoints in flight at one place (pending at the coordinator, in progress at a task),
 * by id, in insertion order. An array, not a Map: a Map that fills and empties at every checkpoint
 * rehashes into a new table on the way down and again on the way up (issue 11).
 */
export class ById<T extends { readonly id: number }> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  get(id: number): T | undefined {
    const a = this.items;
    for (let i = 0; i < a.length; i++) if (a[i].id === id) return a[i];
    return undefined;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `x`, or replaces the entry of the same id where it stands. */
  set(x: T): void {
    const a = this.items;
    for (let i = 0; i < a.length; i++) {
      if (a[i].id === x.id) {
        a[i] = x;
        return;
      }
    }
    a.push(x);
  }

  delete(id: number): boolean {
    const a = this.items;
    for (let i = 0; i < a.length; i++) {
      if (a[i].id !== id) continue;
      removeAt(a, i);
      return true;
    }
    return false;
  }

  /** The entries in insertion order; copy before deleting while iterating. */
  values(): readonly T[] {
    return this.items;
  }

  clear(): void {
    this.items.length = 0;
  }
}
