import * as fs from "node:fs";
import * as path from "node:path";
import { open, type RootDatabase } from "lmdb";
import type { KeyGroupRange, KeyType } from "../keygroups.ts";
import type {
  AggregateFunction, AggregatingState, KeyGroupState, KeyedStateBackend, ListState, MapState, Namespace, Namespaced,
  ReducingState, ValueState,
} from "../keyed-state.ts";
import { CurrentKeyScope } from "../keyed-state.ts";
import { KvTimerService } from "./kv-timers.ts";
import { kvAggregatingState, kvListState, kvMapState, kvReducingState, kvValueState, StateBuffer, type KvSlots, type Slot } from "./kv-state-handles.ts";
import { KeyWriter, decodeStateKey, encodePart, encodeStateKey, keyGroupOf, keyGroupPrefix } from "./key-codec.ts";

/**
 * Keyed state in an lmdb environment (Flink's EmbeddedRocksDBStateBackend): one environment
 * and its root database per task, in a local directory that is disposable because state is
 * rebuilt from the checkpoint. Semantics mirror HeapKeyedStateBackend; only row order within
 * a key group differs (byte order of the encoded key here, insertion order on the heap).
 */
export interface KvKeyedBackendOptions {
  /**
   * Dirty entries held before one transaction writes them all (RocksDB's memtable, in effect).
   * 65,536 by default: lmdb puts are the backend's main cost (bench/kv-backend.ts), and a larger
   * buffer lets repeated adds to one key between flushes become one put.
   */
  writeBufferEntries?: number;
  /**
   * Decoded entries kept in memory in front of lmdb, dirty ones included (RocksDB's block
   * cache, in effect, but of values rather than pages): a hit costs no lmdb read and no
   * msgpack decode. Two generations of half this size each; the older is dropped whole at a
   * flush once the younger is full, so the least recently touched half goes first.
   * 131,072 by default (a few tens of MB at most per task); never less than twice the write buffer.
   * 0: no cache; every flush drops what it wrote (the backend before the cache, for comparison).
   */
  readCacheEntries?: number;
}

/** lmdb rejects longer keys (its compile-time MDB_MAXKEYSIZE). */
const MAX_KEY_BYTES = 1978;
const RESTORE_BATCH = 16_384;

export class KvKeyedStateBackend extends CurrentKeyScope implements KeyedStateBackend, KvSlots {
  private readonly db: RootDatabase<unknown, Buffer>;
  private readonly buffers = new Map<string, StateBuffer>();
  private readonly limit: number;
  /** Young-generation entries that trigger a rotation (half the read cache). */
  private readonly youngLimit: number;
  private readonly noCache: boolean;
  /** Slots in the young generations of all states. */
  private young = 0;
  /** Dirty slots since the last flush, in parallel arrays so listing one allocates nothing. */
  private readonly dirtySb: StateBuffer[] = [];
  private readonly dirtyKg: number[] = [];
  private readonly dirtyKey: KeyType[] = [];
  private readonly dirtyNs: Namespace[] = [];
  private readonly dirtySlot: Slot[] = [];
  /** Listed slots deleted with no row in lmdb: nothing to write, dropped by compact(). */
  private deadDirty = 0;
  private readonly changed: Uint8Array;
  private readonly writer = new KeyWriter();
  private readonly keyParts = new Map<KeyType, Buffer>();
  private disposed = false;
  private timers?: KvTimerService;

  constructor(readonly keyGroupRange: KeyGroupRange, readonly dir: string, opts: KvKeyedBackendOptions = {}) {
    super();
    this.limit = Math.max(1, opts.writeBufferEntries ?? 65_536);
    // The young generation must hold a full write buffer, which it keeps until the flush.
    this.youngLimit = Math.max(this.limit, Math.floor((opts.readCacheEntries ?? 1 << 17) / 2));
    this.noCache = opts.readCacheEntries === 0;
    this.changed = new Uint8Array(keyGroupRange.end - keyGroupRange.start + 1);
    fs.mkdirSync(dir, { recursive: true });
    // A leftover environment (a crashed run, a reused pid) must not leak into a fresh task.
    for (const f of ["state.mdb", "state.mdb-lock", "timers.mdb", "timers.mdb-lock"]) fs.rmSync(path.join(dir, f), { force: true });
    this.db = open({
      path: path.join(dir, "state.mdb"),
      noSubdir: true,
      keyEncoding: "binary",
      encoding: "msgpack",
      // Records keep plain objects apart from Maps (MapState values); the extension carries
      // bigints beyond 64 bits. Each value describes its own record, so no shared-structure row.
      useRecords: true,
      mapsAsObjects: false,
      useBigIntExtension: true,
      // Durability comes from checkpoints, not from this directory: skip fsync on commit.
      noSync: true,
      compression: false,
      cache: false,
    } as Parameters<typeof open>[0] & Record<string, unknown>) as RootDatabase<unknown, Buffer>;
  }


  // ---- the buffer and lmdb beneath it ----

  /** @internal */ buffer(name: string): StateBuffer {
    let sb = this.buffers.get(name);
    if (!sb) this.buffers.set(name, (sb = new StateBuffer(name, this.changed.length)));
    return sb;
  }

  private keyPart(key: KeyType): Buffer {
    let b = this.keyParts.get(key);
    if (b === undefined) {
      if (this.keyParts.size >= 1 << 18) this.keyParts.clear();
      this.keyParts.set(key, (b = encodePart(key)));
    }
    return b;
  }

  /** The lmdb key in the scratch writer: valid until the next call, which lmdb's synchronous calls allow. */
  private dbKey(sb: StateBuffer, kg: number, key: KeyType, ns: Namespace): Buffer {
    const w = this.writer.reset().keyGroup(kg).bytes(this.keyPart(key)).part(ns).bytes(sb.nameBytes);
    if (w.pos > MAX_KEY_BYTES) throw new Error(`state key of ${w.pos} bytes (key ${JSON.stringify(key)}, state "${sb.name}") exceeds lmdb's ${MAX_KEY_BYTES}`);
    return w.buf.subarray(0, w.pos);
  }

  /**
   * The cached slot of the current key and `ns`, promoted from the old generation or loaded
   * from lmdb on a miss (`load`; else, for a blind write, a slot that does not know lmdb's row).
   * Rotates first when the young generation is full, which needs a flush.
   */
  private cached(sb: StateBuffer, ns: Namespace, load: boolean): Slot {
    const i = this.kg - this.keyGroupRange.start;
    let km = sb.groups[i];
    let nm = km?.get(this.key);
    let s = nm?.get(ns);
    if (s !== undefined) return s;
    if (this.young >= this.youngLimit) {
      this.flush();
      for (const b of this.buffers.values()) b.rotate();
      this.young = 0;
      km = nm = undefined;
    }
    s = sb.old[i]?.get(this.key)?.get(ns);
    if (s === undefined) {
      const v = load ? this.db.get(this.dbKey(sb, this.kg, this.key, ns)) : undefined;
      // Without a read we cannot know lmdb has no row, so a later delete must reach it.
      s = { v, del: v === undefined, inDb: !load || v !== undefined, dirty: false };
    }
    if (km === undefined) km = sb.groups[i] ??= new Map();
    if (nm === undefined) {
      nm = km.get(this.key);
      if (nm === undefined) km.set(this.key, (nm = new Map()));
    }
    nm.set(ns, s);
    this.young++;
    return s;
  }

  /** @internal */ read(sb: StateBuffer, ns: Namespace): unknown {
    return this.cached(sb, ns, true).v;
  }

  /** The slot to modify, marked dirty. Flushes first when the write buffer is full. */
  /** @internal */ slotForWrite(sb: StateBuffer, ns: Namespace, load: boolean): Slot {
    if (this.dirtySlot.length >= this.limit) {
      // Windows that opened and fired since the flush fill the list without anything to write:
      // dropping them keeps them from living (and being scanned) until a flush.
      if (this.deadDirty * 2 >= this.dirtySlot.length) this.compact();
      else this.flush();
    }
    const s = this.cached(sb, ns, load);
    this.changed[this.kg - this.keyGroupRange.start] = 1;
    if (!s.dirty) {
      s.dirty = true;
      this.dirtySb.push(sb);
      this.dirtyKg.push(this.kg);
      this.dirtyKey.push(this.key);
      this.dirtyNs.push(ns);
      this.dirtySlot.push(s);
    }
    return s;
  }

  /** @internal */ write(sb: StateBuffer, ns: Namespace, v: unknown): void {
    const s = this.slotForWrite(sb, ns, false);
    s.v = v;
    s.del = false;
  }

  /** @internal */ remove(sb: StateBuffer, ns: Namespace): void {
    const s = this.slotForWrite(sb, ns, false);
    this.tombstone(sb, ns, s);
  }

  /**
   * Marks the slot deleted. When lmdb has no row (a window that opened and fired between
   * flushes) the flush skips it and lmdb never sees it, and the slot leaves the young
   * generation: a fired window is not read again, so caching its absence only costs memory.
   */
  /** @internal */ tombstone(sb: StateBuffer, ns: Namespace, s: Slot): void {
    s.v = undefined;
    s.del = true;
    if (s.inDb) return;
    if (s.dirty) this.deadDirty++;
    const km = sb.groups[this.kg - this.keyGroupRange.start];
    const nm = km?.get(this.key);
    if (nm?.get(ns) !== s) return;
    nm.delete(ns);
    if (nm.size === 0) km!.delete(this.key);
    this.young--;
  }

  /**
   * Writes every dirty entry in one transaction. Transaction callbacks here return nothing:
   * a returned promise-like (lmdb's put returns one) makes transactionSync commit only when the
   * event loop turns, which a synchronous job never lets it do (measured: +400 MB in 30k flushes).
   */
  flush(): void {
    const n = this.dirtySlot.length;
    if (n === 0) return;
    const { dirtySb, dirtyKg, dirtyKey, dirtyNs, dirtySlot } = this;
    this.db.transactionSync(() => {
      for (let j = 0; j < n; j++) {
        const s = dirtySlot[j]!;
        if (!s.del) void this.db.put(this.dbKey(dirtySb[j]!, dirtyKg[j]!, dirtyKey[j]!, dirtyNs[j]!), s.v);
        else if (s.inDb) void this.db.remove(this.dbKey(dirtySb[j]!, dirtyKg[j]!, dirtyKey[j]!, dirtyNs[j]!));
      }
    });
    // Written: the slots stay cached, clean, and know lmdb's row now.
    for (let j = 0; j < n; j++) {
      const s = dirtySlot[j]!;
      s.dirty = false;
      s.inDb = !s.del;
    }
    dirtySb.length = dirtyKg.length = dirtyKey.length = dirtyNs.length = dirtySlot.length = 0;
    this.deadDirty = 0;
    if (this.noCache) this.dropCache();
  }

  /** Drops listed slots that have nothing to write (deleted, no row in lmdb); they become clean. */
  private compact(): void {
    const { dirtySb, dirtyKg, dirtyKey, dirtyNs, dirtySlot } = this;
    let k = 0;
    for (let j = 0; j < dirtySlot.length; j++) {
      const s = dirtySlot[j]!;
      if (s.del && !s.inDb) {
        s.dirty = false;
        continue;
      }
      dirtySb[k] = dirtySb[j]!;
      dirtyKg[k] = dirtyKg[j]!;
      dirtyKey[k] = dirtyKey[j]!;
      dirtyNs[k] = dirtyNs[j]!;
      dirtySlot[k++] = s;
    }
    dirtySb.length = dirtyKg.length = dirtyKey.length = dirtyNs.length = dirtySlot.length = k;
    this.deadDirty = 0;
  }

  /** Drops every cached slot (after a flush): lmdb changed beneath the cache. */
  private dropCache(): void {
    for (const sb of this.buffers.values()) sb.reset();
    this.young = 0;
  }

  // ---- state handles (kv-state-handles.ts) ----

  getValueState<T>(name: string): ValueState<T> & Namespaced {
    return kvValueState<T>(this, name);
  }
  getReducingState<T>(name: string, reduce: (a: T, b: T) => T): ReducingState<T> & Namespaced {
    return kvReducingState<T>(this, name, reduce);
  }
  getAggregatingState<IN, ACC, OUT>(name: string, fn: AggregateFunction<IN, ACC, OUT>): AggregatingState<IN, OUT> & Namespaced {
    return kvAggregatingState<IN, ACC, OUT>(this, name, fn);
  }
  getListState<T>(name: string): ListState<T> & Namespaced {
    return kvListState<T>(this, name);
  }
  getMapState<K, V>(name: string): MapState<K, V> & Namespaced {
    return kvMapState<K, V>(this, name);
  }

  // ---- whole-backend operations ----

  /** Every row of the given key groups (all of this backend's by default), in key order. */
  private *scan(keyGroups?: readonly number[]): Generator<{ key: Buffer; value: unknown }> {
    const { start, end } = this.keyGroupRange;
    const ranges = keyGroups
      ? [...new Set(keyGroups)].filter((g) => g >= start && g <= end).sort((x, y) => x - y).map((g) => [g, g] as const)
      : [[start, end] as const];
    for (const [a, b] of ranges) {
      // snapshot: true pins one read transaction for the whole scan, so it is consistent.
      yield* this.db.getRange({ start: keyGroupPrefix(a), end: keyGroupPrefix(b + 1), snapshot: true }) as Iterable<{ key: Buffer; value: unknown }>;
    }
  }

  entries(name: string): [KeyType, number, Namespace][] {
    this.flush();
    const out: [KeyType, number, Namespace][] = [];
    for (const { key } of this.scan()) {
      const d = decodeStateKey(key);
      if (d.name === name) out.push([d.key, d.keyGroup, d.namespace]);
    }
    return out;
  }

  /**
   * Key groups written or deleted since the last snapshot (restored ones count as written).
   * Call it before `snapshot()`, which resets the tracking. A checkpoint that then fails to
   * complete must fall back to writing everything, since its changes are no longer tracked.
   */
  /** The next snapshot() reads only these key groups (an incremental checkpoint's; see kv-snapshot-strategy.ts). */
  limitNextSnapshot(keyGroups: readonly number[]): void {
    this.nextScan = keyGroups;
  }
  private nextScan?: readonly number[];

  changedKeyGroupsSinceLastSnapshot(): number[] {
    const out: number[] = [];
    this.changed.forEach((c, i) => c && out.push(i + this.keyGroupRange.start));
    return out;
  }

  /**
   * Flink's canonical format, the same as the heap backend's: key groups ascending, rows per
   * state. `keyGroups` limits the scan (an incremental checkpoint reads only changed groups).
   */
  snapshot(keyGroups: readonly number[] | undefined = this.nextScan): KeyGroupState[] {
    this.nextScan = undefined;
    this.flush();
    const out: KeyGroupState[] = [];
    let kg = -1;
    let rows = new Map<string, [KeyType, Namespace, unknown][]>();
    const close = () => {
      if (rows.size === 0) return;
      const states: Record<string, [KeyType, Namespace, unknown][]> = {};
      for (const name of [...rows.keys()].sort((a, b) => (a < b ? -1 : 1))) states[name] = rows.get(name)!;
      out.push({ keyGroup: kg, states });
      rows = new Map();
    };
    for (const { key, value } of this.scan(keyGroups)) {
      const g = keyGroupOf(key);
      if (g !== kg) close(), (kg = g);
      const d = decodeStateKey(key);
      let r = rows.get(d.name);
      if (!r) rows.set(d.name, (r = []));
      r.push([d.key, d.namespace, value]);
    }
    close();
    this.changed.fill(0);
    return out;
  }

  restore(states: Iterable<KeyGroupState>): void {
    this.flush();
    const { start, end } = this.keyGroupRange;
    const batch: [Buffer, unknown][] = [];
    const commit = () => {
      this.db.transactionSync(() => batch.forEach(([k, v]) => void this.db.put(k, v)));
      batch.length = 0;
    };
    for (const g of states) {
      if (g.keyGroup < start || g.keyGroup > end) continue;
      this.changed[g.keyGroup - start] = 1;
      for (const name of Object.keys(g.states)) {
        for (const [key, ns, v] of g.states[name]) {
          batch.push([encodeStateKey(g.keyGroup, key, ns, name), v]);
          if (batch.length >= RESTORE_BATCH) commit();
        }
      }
    }
    if (batch.length) commit();
    this.dropCache();
  }

  size(): number {
    this.flush();
    return (this.db.getStats() as { entryCount: number }).entryCount;
  }

  /** Timers live beside the state, in their own lmdb file in this task's directory. */
  createTimerService(): KvTimerService {
    return (this.timers ??= new KvTimerService(path.join(this.dir, "timers.mdb")));
  }

  /** Closes the environment and deletes its directory: the next attempt restores from a checkpoint. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timers?.close();
    this.buffers.clear();
    this.dirtySb.length = this.dirtyKg.length = this.dirtyKey.length = this.dirtyNs.length = this.dirtySlot.length = 0;
    this.deadDirty = 0;
    // No async writes are ever queued, so close finishes synchronously; the promise is moot.
    void this.db.close().catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
