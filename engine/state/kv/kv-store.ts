import * as fs from "node:fs";
import * as path from "node:path";
import { open, type RootDatabase } from "lmdb";
import type { KeyGroupRange, KeyType } from "../keygroups.ts";
import type { KeyGroupState, Namespace } from "../keyed-state.ts";
import { KeyWriter, decodeStateKey, encodeStateKey, keyGroupOf, keyGroupPrefix } from "./key-codec.ts";
import { Slot } from "./kv-state-handles.ts";
import { decodeValue, ValueWriter } from "./value-codec.ts";

/**
 * The kv backend's lmdb side, apart from its buffers and caches: the options, the environment,
 * and whole-backend rows in Flink's canonical key-group format (scan, snapshot, restore).
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
   * decode. Two generations that hold each key once: a touch moves the key to the young one;
   * when both together reach this size, the old one (what was not touched since the last
   * rotation) is dropped after a flush and the young one becomes old.
   * 131,072 by default (a few tens of MB at most per task); never less than twice the write buffer.
   * 0: no cache; every flush drops what it wrote (the backend before the cache, for comparison).
   */
  readCacheEntries?: number;
  /**
   * The share of a full write buffer that one flush writes, oldest-dirtied first (snapshots and
   * cache rotations still write everything). Below 1 the buffer stays partly full, so more adds
   * find their entry already dirty and cost no put, at the price of more transactions; as a
   * run of key groups is written, each transaction touches only that part of lmdb's B-tree.
   * 1/8 by default (bench/kv-backend.ts, 100k keys: flush CPU -35 %, puts 655k -> 417k per 1 M adds).
   */
  flushShare?: number;
}

const RESTORE_BATCH = 16_384;

/** One task's state environment in `dir`. */
export function openStateDb(dir: string): RootDatabase<Buffer, Buffer> {
  fs.mkdirSync(dir, { recursive: true });
  // A leftover environment (a crashed run, a reused pid) must not leak into a fresh task.
  for (const f of ["state.mdb", "state.mdb-lock", "timers.mdb", "timers.mdb-lock"]) fs.rmSync(path.join(dir, f), { force: true });
  return open({
      path: path.join(dir, "state.mdb"),
      noSubdir: true,
      keyEncoder: stateKeyEncoder(),
      // Values are encoded here (value-codec.ts): a fixed form for fixed-point sums, msgpack else.
      encoding: "binary",
      // Durability comes from checkpoints, not from this directory: skip fsync on commit.
      noSync: true,
      compression: false,
      cache: false,
  } as Parameters<typeof open>[0] & Record<string, unknown>) as RootDatabase<Buffer, Buffer>;
}

/** Every row of the given key groups (all of `range` by default), in key order. */
export function* scanRows(db: RootDatabase<Buffer, Buffer>, range: KeyGroupRange, keyGroups?: readonly number[]): Generator<{ key: Buffer; value: unknown }> {
  const { start, end } = range;
  const ranges = keyGroups
    ? [...new Set(keyGroups)].filter((g) => g >= start && g <= end).sort((x, y) => x - y).map((g) => [g, g] as const)
    : [[start, end] as const];
  for (const [a, b] of ranges) {
    // snapshot: true pins one read transaction for the whole scan, so it is consistent.
    for (const { key, value } of db.getRange({ start: keyGroupPrefix(a), end: keyGroupPrefix(b + 1), snapshot: true })) {
      yield { key, value: decodeValue(value) };
    }
  }
}

/** Flink's canonical format, the same as the heap backend's: key groups ascending, rows per state. */
export function keyGroupStates(rowsInKeyOrder: Iterable<{ key: Buffer; value: unknown }>): KeyGroupState[] {
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
  for (const { key, value } of rowsInKeyOrder) {
    const g = keyGroupOf(key);
    if (g !== kg) close(), (kg = g);
    const d = decodeStateKey(key);
    let r = rows.get(d.name);
    if (!r) rows.set(d.name, (r = []));
    r.push([d.key, d.namespace, value]);
  }
  close();
  return out;
}

/** Writes the key groups of `range` in batched transactions and marks them changed. */
export function writeKeyGroupStates(db: RootDatabase<Buffer, Buffer>, range: KeyGroupRange, states: Iterable<KeyGroupState>, changed: Uint8Array): void {
  const { start, end } = range;
  const batch: [Buffer, unknown][] = [];
  const values = new ValueWriter();
  const commit = () => {
    db.transactionSync(() => batch.forEach(([k, v]) => void db.put(k, values.encode(v))));
    batch.length = 0;
  };
  for (const g of states) {
    if (g.keyGroup < start || g.keyGroup > end) continue;
    changed[g.keyGroup - start] = 1;
    for (const name of Object.keys(g.states)) {
      for (const [key, ns, v] of g.states[name]) {
        batch.push([encodeStateKey(g.keyGroup, key, ns, name), v]);
        if (batch.length >= RESTORE_BATCH) commit();
      }
    }
  }
  if (batch.length) commit();
}

/** lmdb rejects longer keys (its compile-time MDB_MAXKEYSIZE). */
const MAX_KEY_BYTES = 1978;

/**
 * lmdb's key encoder for the state environment. A slot is its own key: its lmdb key is written
 * straight into lmdb's key buffer from the slot's fields (no Buffer per key, and no second
 * object to fetch from memory per put: the slot is in hand). A Buffer (range bounds, restore
 * rows) is copied as it is. Reads return copies.
 */
function stateKeyEncoder() {
  const w = new KeyWriter();
  return {
    writeKey(key: Slot | Uint8Array, target: Buffer, start: number): number {
      if (!(key instanceof Slot)) {
        target.set(key, start);
        return start + key.length;
      }
      w.into(target, start).keyGroup(key.kg).part(key.key).bytes(key.sb.suffix(key.ns));
      // A part too long for lmdb's buffer moved the writer to its own: far beyond the limit too.
      const n = w.buf === target ? w.pos - start : Infinity;
      if (n > MAX_KEY_BYTES) throw new Error(`state key of ${w.buf === target ? n : "more than 2,000"} bytes (key ${JSON.stringify(key.key).slice(0, 80)}, state "${key.sb.name}") exceeds lmdb's ${MAX_KEY_BYTES}`);
      return w.pos;
    },
    readKey: (target: Uint8Array, start: number, end: number): Buffer => Buffer.from(target.subarray(start, end)),
  };
}

/** A slot where lmdb's API expects a key: the state environment's key encoder takes slots. */
export function slotKey(s: Slot): Buffer {
  return s as unknown as Buffer;
}
