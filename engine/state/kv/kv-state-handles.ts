import type { AggregateFunction, AggregatingState, ListState, MapState, Namespace, Namespaced, ReducingState, ValueState } from "../keyed-state.ts";
import type { KeyType } from "../keygroups.ts";
import { encodePart } from "./key-codec.ts";

/**
 * A cached entry of one state, key and namespace. `inDb: false` means lmdb is known to have no
 * row, so a delete can be dropped (and a read answered "absent" without asking lmdb). `dirty`:
 * changed since the last flush, and listed in the backend's dirty list, which needs nothing
 * but the slot to write it: the slot carries its identity, and lmdb's key encoder takes the
 * slot as the key (kv-store.ts).
 */
export class Slot {
  v: unknown = undefined;
  del = true;
  inDb = false;
  dirty = false;
  /** The next cached namespace of the same key and state (a key has few live windows). */
  next: Slot | undefined = undefined;
  constructor(readonly sb: StateBuffer, readonly kg: number, readonly key: KeyType, readonly ns: Namespace) {}
}

/**
 * A key's cached slots in one state: a chain through `next` while short (a key has one or two
 * live windows, and a chain costs no Map per key), a Map by namespace once longer (a key with
 * many namespaces must not cost a walk per access).
 */
export type KeySlots = Slot | Map<Namespace, Slot>;
const CHAIN_MAX = 8;

/** The slot of `ns` among a key's slots. Chain equality is a Map's (SameValueZero): NaN is one namespace. */
export function findNs(e: KeySlots, ns: Namespace): Slot | undefined {
  if (e instanceof Slot) {
    for (let s: Slot | undefined = e; s !== undefined; s = s.next) if (s.ns === ns || (ns !== ns && s.ns !== s.ns)) return s;
    return undefined;
  }
  return e.get(ns);
}

/** How many slots a key has cached. */
export function countNs(e: KeySlots): number {
  if (!(e instanceof Slot)) return e.size;
  let n = 0;
  for (let s: Slot | undefined = e; s !== undefined; s = s.next) n++;
  return n;
}

/** Adds `s` (a namespace not among them); returns what the key's entry is now. */
export function addNs(e: KeySlots | undefined, s: Slot): KeySlots {
  if (e === undefined) return s;
  if (!(e instanceof Slot)) return e.set(s.ns, s);
  if (countNs(e) < CHAIN_MAX) {
    s.next = e.next;
    e.next = s;
    return e;
  }
  const m = new Map<Namespace, Slot>();
  for (let x: Slot | undefined = e; x !== undefined; ) {
    const n: Slot | undefined = x.next;
    x.next = undefined;
    m.set(x.ns, x);
    x = n;
  }
  return m.set(s.ns, s);
}

/** Removes `s`; returns what the key's entry is now (undefined: no slot left), or false if `s` was not there. */
export function removeNs(e: KeySlots, s: Slot): KeySlots | undefined | false {
  if (!(e instanceof Slot)) {
    if (e.get(s.ns) !== s) return false;
    e.delete(s.ns);
    return e.size === 0 ? undefined : e;
  }
  if (e === s) {
    const rest = s.next;
    s.next = undefined;
    return rest;
  }
  let p: Slot | undefined = e;
  while (p !== undefined && p.next !== s) p = p.next;
  if (p === undefined) return false;
  p.next = s.next;
  s.next = undefined;
  return e;
}

/** Per key group (index: keyGroup - range.start, as on the heap), each key's cached slots. */
export type Generation = (Map<KeyType, KeySlots> | undefined)[];

export class StateBuffer {
  readonly nameBytes: Buffer;
  /** Keys touched since the last rotation. A key's chain lives in exactly one generation. */
  young: Generation;
  /** Keys not touched since the last rotation; a touch moves the key's chain to `young`, a rotation drops what is left. */
  old: Generation;
  /** The last namespace's key suffix (namespace part, then the name), for the flush's key encoder. */
  private suffixNs: Namespace | undefined = undefined;
  private suffixBytes: Uint8Array | undefined = undefined;
  constructor(readonly name: string, private readonly width: number) {
    this.nameBytes = encodePart(name);
    this.young = new Array(width);
    this.old = new Array(width);
  }
  /**
   * The encoded `namespace | name` that ends every lmdb key of this state in `ns`. A flush walks
   * many slots of one namespace (a window's keys), so the last one is kept: the key encoder then
   * copies it instead of encoding a number and copying the name per put. (=== is the right test:
   * 0 and -0 encode alike; NaN never matches and is encoded afresh.)
   */
  suffix(ns: Namespace): Uint8Array {
    if (ns === this.suffixNs && this.suffixBytes !== undefined) return this.suffixBytes;
    const ps = encodePart(ns);
    const b = new Uint8Array(ps.length + this.nameBytes.length);
    b.set(ps, 0);
    b.set(this.nameBytes, ps.length);
    this.suffixNs = ns;
    return (this.suffixBytes = b);
  }
  /** Only right after a flush: no slot may be dirty. */
  rotate(): void {
    this.old = this.young;
    this.young = new Array(this.width);
  }
  reset(): void {
    this.young = new Array(this.width);
    this.old = new Array(this.width);
  }
}

/** The kv backend's write buffer, as the state handles see it. */
export interface KvSlots {
  buffer(name: string): StateBuffer;
  read(sb: StateBuffer, ns: Namespace): unknown;
  write(sb: StateBuffer, ns: Namespace, v: unknown): void;
  remove(sb: StateBuffer, ns: Namespace): void;
  slotForWrite(sb: StateBuffer, ns: Namespace, load: boolean): Slot;
  tombstone(sb: StateBuffer, ns: Namespace, s: Slot): void;
}

/**
 * The kv backend's state handles (Flink's RocksDBValueState and friends): each reads and writes
 * through the backend's write buffer, scoped by the current key and the handle's namespace.
 */
export function kvValueState<T>(b: KvSlots, name: string): ValueState<T> & Namespaced {
  const sb = b.buffer(name);
  let ns: Namespace = "";
  return {
    setCurrentNamespace: (n) => void (ns = n),
    value: () => b.read(sb, ns) as T | undefined,
    update: (v) => (v === undefined ? b.remove(sb, ns) : b.write(sb, ns, v)),
    clear: () => b.remove(sb, ns),
  };
}

export function kvReducingState<T>(b: KvSlots, name: string, reduce: (x: T, y: T) => T): ReducingState<T> & Namespaced {
  const sb = b.buffer(name);
  let ns: Namespace = "";
  return {
    setCurrentNamespace: (n) => void (ns = n),
    get: () => b.read(sb, ns) as T | undefined,
    add: (v) => {
      const s = b.slotForWrite(sb, ns, true);
      s.v = s.del ? v : reduce(s.v as T, v);
      s.del = false;
    },
    clear: () => b.remove(sb, ns),
  };
}

export function kvAggregatingState<IN, ACC, OUT>(b: KvSlots, name: string, fn: AggregateFunction<IN, ACC, OUT>): AggregatingState<IN, OUT> & Namespaced {
  const sb = b.buffer(name);
  let ns: Namespace = "";
  return {
    setCurrentNamespace: (n) => void (ns = n),
    get: () => {
      const acc = b.read(sb, ns) as ACC | undefined;
      return acc === undefined ? undefined : fn.getResult(acc);
    },
    add: (v) => {
      const s = b.slotForWrite(sb, ns, true);
      const created = s.del || s.v === undefined;
      s.v = fn.add(v, created ? fn.createAccumulator() : (s.v as ACC));
      s.del = false;
      return created;
    },
    clear: () => b.remove(sb, ns),
  };
}

export function kvListState<T>(b: KvSlots, name: string): ListState<T> & Namespaced {
  const sb = b.buffer(name);
  let ns: Namespace = "";
  return {
    setCurrentNamespace: (n) => void (ns = n),
    get: () => (b.read(sb, ns) as T[] | undefined) ?? [],
    add: (v) => {
      const s = b.slotForWrite(sb, ns, true);
      if (s.del) s.v = [v];
      else (s.v as T[]).push(v);
      s.del = false;
    },
    update: (vs) => (vs.length ? b.write(sb, ns, vs.slice()) : b.remove(sb, ns)),
    clear: () => b.remove(sb, ns),
  };
}

export function kvMapState<K, V>(b: KvSlots, name: string): MapState<K, V> & Namespaced {
  const sb = b.buffer(name);
  let ns: Namespace = "";
  const cur = () => b.read(sb, ns) as Map<K, V> | undefined;
  return {
    setCurrentNamespace: (n) => void (ns = n),
    get: (k) => cur()?.get(k),
    put: (k, v) => {
      const s = b.slotForWrite(sb, ns, true);
      if (s.del) s.v = new Map([[k, v]]);
      else (s.v as Map<K, V>).set(k, v);
      s.del = false;
    },
    remove: (k) => {
      if (cur() === undefined) return;
      const s = b.slotForWrite(sb, ns, true);
      const m = s.v as Map<K, V>;
      m.delete(k);
      if (m.size === 0) b.tombstone(sb, ns, s);
    },
    contains: (k) => cur()?.has(k) ?? false,
    entries: () => [...(cur()?.entries() ?? [])],
    isEmpty: () => (cur()?.size ?? 0) === 0,
    clear: () => b.remove(sb, ns),
  };
}
