import * as fs from "node:fs";
import * as path from "node:path";
import { open, type RootDatabase } from "lmdb";
import type { KeyGroupRange, KeyType } from "../keygroups.ts";
import type { Timer, TimerQueue, TimerSnapshot } from "../timers.ts";
import type { Namespace } from "../keyed-state.ts";
import { encodePart } from "./key-codec.ts";
import { RELEASED } from "./kv-env-pool.ts";

/**
 * Event-time timers in lmdb (Flink's RocksDB timer service): keys are
 * `timestamp (8 bytes, big endian, offset so order is numeric) | keyGroup (2) | key | namespace`,
 * so one range scan up to the watermark yields the due timers in firing order. Registrations
 * are buffered and written in one transaction, like the state writes.
 */
const OFFSET = 2n ** 63n;
const FLUSH_AT = 4096;

function tsBytes(ts: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(ts) + OFFSET);
  return b;
}

type Row = [number, number, KeyType, Namespace];

export class KvTimerService implements TimerQueue {
  private db: RootDatabase<Row, Buffer>;
  /** key (latin1 string of its bytes) -> row to put, or null to delete */
  private readonly pending = new Map<string, { k: Buffer; row: Row | null }>();
  private count = 0;
  /**
   * No timer is earlier than this (exact after an advance, a lower bound after registrations):
   * a watermark below it fires nothing, so advance() skips the lmdb scan that would find
   * nothing. Watermarks come far more often than timers fall due (the seed job: one scan
   * per periodic watermark, 18k an hour, for one due window a minute).
   */
  private next = Infinity;

  /** `db`: an empty timer database to use instead of opening `file` (a pooled environment's: kv-env-pool.ts). */
  constructor(readonly file: string, db?: RootDatabase<unknown, Buffer>) {
    if (db !== undefined) {
      this.db = db as RootDatabase<Row, Buffer>;
      return;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = open({ path: file, noSubdir: true, keyEncoding: "binary", encoding: "msgpack", noSync: true, cache: false } as Parameters<typeof open>[0]) as RootDatabase<Row, Buffer>;
  }

  /** The database, for a pooled environment to keep once the task is done with it. */
  get database(): RootDatabase<unknown, Buffer> {
    return this.db;
  }

  /** The task is done and its environment goes back to the pool: this service may not touch it again. */
  detach(): void {
    this.pending.clear();
    this.db = RELEASED;
  }

  private keyOf(ts: number, kg: number, key: KeyType, ns: Namespace): Buffer {
    const g = Buffer.alloc(2);
    g.writeUInt16BE(kg);
    return Buffer.concat([tsBytes(ts), g, encodePart(key), encodePart(ns)]);
  }

  register(key: KeyType, keyGroup: number, namespace: Namespace, timestamp: number): void {
    const k = this.keyOf(timestamp, keyGroup, key, namespace);
    const id = k.toString("latin1");
    const p = this.pending.get(id);
    if (p ? p.row !== null : this.db.get(k) !== undefined) return;
    this.pending.set(id, { k, row: [timestamp, keyGroup, key, namespace] });
    this.count++;
    if (timestamp < this.next) this.next = timestamp;
    if (this.pending.size >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.db.transactionSync(() => {
      for (const { k, row } of batch) row ? void this.db.put(k, row) : void this.db.remove(k);
    });
  }

  advance(watermark: number, fire: (t: Timer) => void): void {
    if (this.count === 0 || watermark < this.next) return;
    this.flush();
    const due: { key: Buffer; value: Row }[] = [];
    // MAX_WATERMARK (end of input) fires everything: no upper bound.
    const range = Number.isFinite(watermark) ? { end: tsBytes(Math.floor(watermark) + 1) } : {};
    for (const e of this.db.getRange(range) as Iterable<{ key: Buffer; value: Row }>) due.push({ key: Buffer.from(e.key), value: e.value });
    if (due.length > 0) {
      this.db.transactionSync(() => {
        for (const d of due) void this.db.remove(d.key);
      });
      this.count -= due.length;
    }
    this.next = Infinity;
    for (const { value } of this.db.getRange({ limit: 1 }) as Iterable<{ value: Row }>) this.next = value[0];
    for (const { value: [timestamp, keyGroup, key, namespace] } of due) fire({ timestamp, keyGroup, key, namespace });
  }

  size(): number {
    return this.count;
  }

  snapshot(): TimerSnapshot[] {
    this.flush();
    const by = new Map<number, TimerSnapshot>();
    for (const { value: [ts, kg, key, ns] } of this.db.getRange({ snapshot: true }) as Iterable<{ value: Row }>) {
      let g = by.get(kg);
      if (!g) by.set(kg, (g = { keyGroup: kg, timers: [] }));
      g.timers.push([ts, key, ns]);
    }
    return [...by.values()].sort((a, b) => a.keyGroup - b.keyGroup);
  }

  restore(snaps: Iterable<TimerSnapshot>, range: KeyGroupRange): void {
    for (const g of snaps) {
      if (g.keyGroup < range.start || g.keyGroup > range.end) continue;
      for (const [ts, key, ns] of g.timers) this.register(key, g.keyGroup, ns, ts);
    }
    this.flush();
  }

  close(): void {
    this.pending.clear();
    void this.db.close().catch(() => undefined);
  }
}
