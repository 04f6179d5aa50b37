import type { KeyGroupRange, KeyType } from "./keygroups.ts";
import type {
  AggregateFunction, AggregatingState, KeyGroupState, KeyedStateBackend, ListState, MapState, Namespace, Namespaced,
  ReducingState, ValueState,
} from "./keyed-state.ts";
import { CurrentKeyScope } from "./keyed-state.ts";
import { CapturedKeyGroup, insertSorted, StateTable, type KeyMap } from "./cow-state-table.ts";

/**
 * Keyed state in JS maps (Flink's HashMapStateBackend). Tables are indexed by key group first,
 * so a snapshot is already partitioned the way rescaling needs it, and copy-on-write per key
 * group (cow-state-table.ts) makes the synchronous phase O(key groups).
 */
export class HeapKeyedStateBackend extends CurrentKeyScope implements KeyedStateBackend {
  private readonly tables = new Map<string, StateTable>();

  constructor(readonly keyGroupRange: KeyGroupRange) {
    super();
    this.usedMark = new Uint8Array(keyGroupRange.end - keyGroupRange.start + 1);
  }


  private table(name: string): StateTable {
    let t = this.tables.get(name);
    if (!t) this.tables.set(name, (t = new StateTable(this.keyGroupRange, this.onUsed)));
    return t;
  }

  getValueState<T>(name: string): ValueState<T> & Namespaced {
    const t = this.table(name);
    const b = this;
    let ns: Namespace = "";
    return {
      setCurrentNamespace: (n) => void (ns = n),
      value: () => t.get(b.kg, b.key, ns) as T | undefined,
      update: (v) => (v === undefined ? t.remove(b.kg, b.key, ns) : t.put(b.kg, b.key, ns, v)),
      clear: () => t.remove(b.kg, b.key, ns),
    };
  }

  getReducingState<T>(name: string, reduce: (a: T, b: T) => T): ReducingState<T> & Namespaced {
    const t = this.table(name);
    const b = this;
    let ns: Namespace = "";
    return {
      setCurrentNamespace: (n) => void (ns = n),
      get: () => t.get(b.kg, b.key, ns) as T | undefined,
      add: (v) => {
        const cur = t.get(b.kg, b.key, ns) as T | undefined;
        t.put(b.kg, b.key, ns, cur === undefined ? v : reduce(cur, v));
      },
      clear: () => t.remove(b.kg, b.key, ns),
    };
  }

  getAggregatingState<IN, ACC, OUT>(name: string, fn: AggregateFunction<IN, ACC, OUT>): AggregatingState<IN, OUT> & Namespaced {
    const t = this.table(name);
    const b = this;
    let ns: Namespace = "";
    return {
      setCurrentNamespace: (n) => void (ns = n),
      get: () => {
        const acc = t.get(b.kg, b.key, ns) as ACC | undefined;
        return acc === undefined ? undefined : fn.getResult(acc);
      },
      add: (v) => {
        const acc = t.get(b.kg, b.key, ns) as ACC | undefined;
        t.put(b.kg, b.key, ns, fn.add(v, acc === undefined ? fn.createAccumulator() : acc));
        return acc === undefined;
      },
      clear: () => t.remove(b.kg, b.key, ns),
    };
  }

  getListState<T>(name: string): ListState<T> & Namespaced {
    const t = this.table(name);
    const b = this;
    let ns: Namespace = "";
    return {
      setCurrentNamespace: (n) => void (ns = n),
      get: () => (t.get(b.kg, b.key, ns) as T[] | undefined) ?? [],
      add: (v) => {
        const cur = t.getForWrite(b.kg, b.key, ns) as T[] | undefined;
        if (cur) cur.push(v);
        else t.put(b.kg, b.key, ns, [v]);
      },
      update: (vs) => (vs.length ? t.put(b.kg, b.key, ns, vs.slice()) : t.remove(b.kg, b.key, ns)),
      clear: () => t.remove(b.kg, b.key, ns),
    };
  }

  getMapState<K, V>(name: string): MapState<K, V> & Namespaced {
    const t = this.table(name);
    const b = this;
    let ns: Namespace = "";
    const cur = () => t.get(b.kg, b.key, ns) as Map<K, V> | undefined;
    return {
      setCurrentNamespace: (n) => void (ns = n),
      get: (k) => cur()?.get(k),
      put: (k, v) => {
        const m = t.getForWrite(b.kg, b.key, ns) as Map<K, V> | undefined;
        if (m) m.set(k, v);
        else t.put(b.kg, b.key, ns, new Map([[k, v]]));
      },
      remove: (k) => {
        const m = t.getForWrite(b.kg, b.key, ns) as Map<K, V> | undefined;
        if (!m) return;
        m.delete(k);
        if (m.size === 0) t.remove(b.kg, b.key, ns);
      },
      contains: (k) => cur()?.has(k) ?? false,
      entries: () => [...(cur()?.entries() ?? [])],
      isEmpty: () => (cur()?.size ?? 0) === 0,
      clear: () => t.remove(b.kg, b.key, ns),
    };
  }

  entries(name: string): [KeyType, number, Namespace][] {
    const t = this.tables.get(name);
    const out: [KeyType, number, Namespace][] = [];
    if (!t) return out;
    t.groups.forEach((km, i) => {
      km?.forEach((nm, key) => nm.forEach((_v, ns) => out.push([key, i + this.keyGroupRange.start, ns])));
    });
    return out;
  }

  /** Group indexes (key group - range start) any table has a map for, ascending: what a snapshot visits. */
  private used: number[] = [];
  private usedMark: Uint8Array;
  private readonly onUsed = (i: number): void => {
    if (this.usedMark[i] !== 0) return;
    this.usedMark[i] = 1;
    insertSorted(this.used, i);
  };

  /** Table names sorted, and the tables in that order: rebuilt only when a table is added. */
  private sortedNames: string[] = [];
  private sortedTables: StateTable[] = [];

  /**
   * O(groups in use): each group's maps are captured by reference, and copied by the first write
   * after. Only groups some table has a map for are visited (`used`), in ascending order.
   */
  snapshot(): KeyGroupState[] {
    if (this.sortedNames.length !== this.tables.size) {
      this.sortedNames = [...this.tables.keys()].sort();
      this.sortedTables = this.sortedNames.map((n) => this.tables.get(n)!);
    }
    const names = this.sortedNames, tables = this.sortedTables;
    const groups = this.used;
    const out: KeyGroupState[] = [];
    for (let k = 0; k < groups.length; k++) {
      const i = groups[k];
      let maps: (KeyMap | undefined)[] | undefined;
      for (let t = 0; t < tables.length; t++) {
        const km = tables[t].capture(i);
        if (km === undefined) continue;
        // Made at its final size (an empty array's first push reserves 17 slots); a state without a map here stays a hole.
        if (maps === undefined) maps = new Array(tables.length);
        maps[t] = km;
      }
      if (maps !== undefined) out.push(new CapturedKeyGroup(i + this.keyGroupRange.start, names, maps));
    }
    return out;
  }

  restore(states: Iterable<KeyGroupState>): void {
    for (const g of states) {
      if (g.keyGroup < this.keyGroupRange.start || g.keyGroup > this.keyGroupRange.end) continue;
      if (g instanceof CapturedKeyGroup) {
        // A decoded or captured group: its maps are shared, not copied (the first write copies).
        for (const [name, km] of g.tables) this.table(name).adopt(g.keyGroup - this.keyGroupRange.start, km);
        continue;
      }
      for (const name of Object.keys(g.states)) {
        const t = this.table(name);
        for (const [key, ns, v] of g.states[name]) t.put(g.keyGroup, key, ns, copyRestored(v));
      }
    }
  }

  size(): number {
    let n = 0;
    this.tables.forEach((t) => t.groups.forEach((km) => km?.forEach((nm) => (n += nm.size))));
    return n;
  }

  dispose(): void {
    this.tables.clear();
    this.sortedNames = [];
    this.sortedTables = [];
    this.used = [];
    this.usedMark.fill(0);
  }
}

/** Restored rows may share containers with the snapshot they came from (in-memory storage). */
function copyRestored(v: unknown): unknown {
  if (Array.isArray(v)) return v.slice();
  if (v instanceof Map) return new Map(v);
  return v;
}
