import type { KeyGroupRange, KeyType } from "./keygroups.ts";
import type { KeyGroupState, Namespace } from "./keyed-state.ts";

/**
 * One state's table of the heap backend, indexed by key group, with copy-on-write per key group
 * (Flink's CopyOnWriteStateMap, at key-group granularity): a snapshot takes references to the
 * key groups' maps (O(key groups), no row copied) and marks them shared; the first write to a
 * shared group afterwards copies that group, so the snapshot's maps never change. A group no
 * snapshot can hold is written in place.
 */
export type NsMap = Map<Namespace, unknown>;
export type KeyMap = Map<KeyType, NsMap>;

/** Values are copied only where they are mutable containers (list and map state mutate in place). */
function copyValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.slice();
  if (v instanceof Map) return new Map(v);
  return v;
}

function copyGroup(km: KeyMap): KeyMap {
  const out: KeyMap = new Map();
  for (const [key, nm] of km) {
    const n: NsMap = new Map();
    for (const [ns, v] of nm) n.set(ns, copyValue(v));
    out.set(key, n);
  }
  return out;
}

export class StateTable {
  /** index: keyGroup - range.start */
  readonly groups: (KeyMap | undefined)[];
  /**
   * 1 while a snapshot may hold the group's current map: the next write copies it first. Snapshots
   * are not released (the incremental strategy keeps a base for as long as it likes), so a group
   * is copied at most once per checkpoint, and only if it is written afterwards.
   */
  private readonly shared: Uint8Array;
  /**
   * `onUsed`: told each group index the first time this table has a map for it (a group keeps its
   * map from then on), so the backend's snapshot visits those groups instead of every group of the
   * range (128 or more for a handful of keys).
   */
  constructor(readonly range: KeyGroupRange, private readonly onUsed?: (i: number) => void) {
    this.groups = new Array(range.end - range.start + 1);
    this.shared = new Uint8Array(range.end - range.start + 1);
  }

  get(kg: number, key: KeyType, ns: Namespace): unknown {
    return this.groups[kg - this.range.start]?.get(key)?.get(ns);
  }

  /** The value, for a caller about to mutate it in place (list and map state). */
  getForWrite(kg: number, key: KeyType, ns: Namespace): unknown {
    const i = kg - this.range.start;
    if (this.shared[i] !== 0) this.own(i);
    return this.groups[i]?.get(key)?.get(ns);
  }

  put(kg: number, key: KeyType, ns: Namespace, v: unknown): void {
    const i = kg - this.range.start;
    if (this.shared[i] !== 0) this.own(i);
    let km = this.groups[i];
    if (km === undefined) {
      this.groups[i] = km = new Map();
      this.markUsed(i);
    }
    let nm = km.get(key);
    if (nm === undefined) km.set(key, (nm = new Map()));
    nm.set(ns, v);
  }

  remove(kg: number, key: KeyType, ns: Namespace): void {
    const i = kg - this.range.start;
    if (this.groups[i]?.get(key)?.has(ns) !== true) return;
    if (this.shared[i] !== 0) this.own(i);
    const km = this.groups[i]!;
    const nm = km.get(key)!;
    nm.delete(ns);
    if (nm.size === 0) km.delete(key);
  }

  /**
   * Restore: group i takes `km` as it is, shared (whoever handed it over may read it again, so
   * the first write copies it). Into a group that already holds rows, they are added one by one.
   */
  adopt(i: number, km: KeyMap): void {
    const cur = this.groups[i];
    if (cur === undefined || cur.size === 0) {
      if (cur === undefined) this.markUsed(i);
      this.groups[i] = km;
      this.shared[i] = 1;
      return;
    }
    const kg = i + this.range.start;
    for (const [key, nm] of km) for (const [ns, v] of nm) this.put(kg, key, ns, copyValue(v));
  }

  private markUsed(i: number): void {
    this.onUsed?.(i);
  }

  /** Captures group i for a snapshot: the returned map stays as it is now. */
  capture(i: number): KeyMap | undefined {
    const km = this.groups[i];
    if (km === undefined || km.size === 0) return undefined;
    this.shared[i] = 1;
    return km;
  }

  private own(i: number): void {
    const km = this.groups[i];
    if (km !== undefined) this.groups[i] = copyGroup(km);
    this.shared[i] = 0;
  }
}

/** Inserts `i` (not present) into the ascending list `u`: rare (once per group for a table's life). */
export function insertSorted(u: number[], i: number): void {
  let j = u.length;
  u.push(i);
  while (j > 0 && u[j - 1] > i) {
    u[j] = u[j - 1];
    j--;
  }
  u[j] = i;
}

/**
 * A key group as a heap snapshot holds it: references to maps the live tables no longer write,
 * one per state name (the backend's sorted names, shared by every group of a snapshot; a state
 * without a map in this group has none). `states` (rows, as every consumer of KeyGroupState reads
 * them) and `tables` are built on first use; a checkpoint kept in memory never builds either. Four
 * small objects per group and checkpoint (issue 11): this one, its maps array, and nothing else.
 */
export class CapturedKeyGroup implements KeyGroupState {
  private rows?: Record<string, [KeyType, Namespace, unknown][]>;
  private pairs?: readonly (readonly [string, KeyMap])[];

  constructor(
    readonly keyGroup: number,
    private readonly names: readonly string[],
    private readonly maps: readonly (KeyMap | undefined)[],
  ) {}

  /** A group from [name, map] pairs (decoding, tests). */
  static of(keyGroup: number, tables: readonly (readonly [string, KeyMap])[]): CapturedKeyGroup {
    const g = new CapturedKeyGroup(keyGroup, tables.map((t) => t[0]), tables.map((t) => t[1]));
    g.pairs = tables;
    return g;
  }

  get states(): Record<string, [KeyType, Namespace, unknown][]> {
    return this.materialize();
  }

  /** [state name, that state's map of this group], sorted by name, for the states this group has. */
  get tables(): readonly (readonly [string, KeyMap])[] {
    if (this.pairs) return this.pairs;
    const out: [string, KeyMap][] = [];
    for (let i = 0; i < this.names.length; i++) {
      const km = this.maps[i];
      if (km !== undefined) out.push([this.names[i], km]);
    }
    return (this.pairs = out);
  }

  materialize(): Record<string, [KeyType, Namespace, unknown][]> {
    if (this.rows) return this.rows;
    const states: Record<string, [KeyType, Namespace, unknown][]> = {};
    for (const [name, km] of this.tables) {
      const rows: [KeyType, Namespace, unknown][] = (states[name] = []);
      for (const [key, nm] of km) for (const [ns, v] of nm) rows.push([key, ns, v]);
    }
    return (this.rows = states);
  }

  /** JSON.stringify and serde's toJson write the plain form, as for any KeyGroupState. */
  toJSON(): KeyGroupState {
    return { keyGroup: this.keyGroup, states: this.materialize() };
  }
}
