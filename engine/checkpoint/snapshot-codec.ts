import { BinaryDecodeError, BinaryReader } from "../state/binary-reader.ts";
import { BinaryWriter, type ChunkSink } from "../state/binary-writer.ts";
import type { StatePayload } from "../state/checkpoint-storage.ts";
import { CapturedKeyGroup, type KeyMap } from "../state/cow-state-table.ts";
import type { KeyType } from "../state/keygroups.ts";
import type { KeyGroupState, Namespace } from "../state/keyed-state.ts";
import type { TimerSnapshot } from "../state/timers.ts";
import type { OperatorSnapshot } from "../runtime/operator.ts";
import type { DeltaRow, KeyedDelta } from "./incremental.ts";
import type { TaskSnapshot } from "./subtask-checkpointer.ts";

/**
 * A subtask's snapshot in binary, written key group by key group into the writer's reused chunk
 * (binary-writer.ts), so the async phase streams any state size through ~1 MB.
 *
 *   payload := VERSION, varint n, n × operator
 *   operator := uid, flags (1: has delta), keyed, [delta], timers, list
 *   keyed := varint groups, per group: varint kg, varint states, per state: name,
 *            varint keys, per key: key, varint namespaces, per namespace: ns, value
 *   delta := varint parent, u8 has-replaced, [varint n, n × varint kg], varint rows,
 *            per row: name, varint kg, key, ns, u8 has-value, [value]
 *   timers := varint groups, per group: varint kg, varint n, n × (time, key, ns)
 *   list := varint n, n × value
 * Keys, namespaces, times and values are tagged values (binary-tags.ts).
 */
const VERSION = 1;

function encodeKeyed(w: BinaryWriter, groups: readonly KeyGroupState[]): void {
  w.varint(groups.length);
  for (const g of groups) {
    w.varint(g.keyGroup);
    if (g instanceof CapturedKeyGroup) {
      // Straight from the captured maps: no row arrays built.
      w.varint(g.tables.length);
      for (const [name, km] of g.tables) {
        w.string(name);
        w.varint(km.size);
        for (const [key, nm] of km) {
          w.value(key);
          w.varint(nm.size);
          for (const [ns, v] of nm) {
            w.value(ns);
            w.value(v);
          }
        }
      }
      continue;
    }
    const names = Object.keys(g.states);
    w.varint(names.length);
    for (const name of names) {
      const rows = g.states[name];
      w.string(name);
      w.varint(rows.length);
      for (const [key, ns, v] of rows) {
        w.value(key);
        w.varint(1);
        w.value(ns);
        w.value(v);
      }
    }
  }
}

/** Straight into maps, as the heap backend holds them (it adopts them on restore); rows are built only if read. */
function decodeKeyed(r: BinaryReader): KeyGroupState[] {
  const n = r.count();
  const out: KeyGroupState[] = [];
  for (let i = 0; i < n; i++) {
    const keyGroup = r.varint();
    const tables: [string, KeyMap][] = [];
    const ns = r.count();
    for (let s = 0; s < ns; s++) {
      const name = r.string();
      let km = tables.find((t) => t[0] === name)?.[1];
      if (km === undefined) tables.push([name, (km = new Map())]);
      const keys = r.count();
      for (let k = 0; k < keys; k++) {
        const key = r.value() as KeyType;
        let nm = km.get(key);
        if (nm === undefined) km.set(key, (nm = new Map()));
        const m = r.count();
        for (let j = 0; j < m; j++) {
          const n = r.value() as Namespace;
          nm.set(n, r.value());
        }
      }
    }
    out.push(CapturedKeyGroup.of(keyGroup, tables));
  }
  return out;
}

function encodeDelta(w: BinaryWriter, d: KeyedDelta): void {
  w.varint(d.parent);
  if (d.replacedGroups) {
    w.u8(1);
    w.varint(d.replacedGroups.length);
    for (const g of d.replacedGroups) w.varint(g);
  } else w.u8(0);
  w.varint(d.rows.length);
  for (const row of d.rows) {
    w.string(row[0]);
    w.varint(row[1]);
    w.value(row[2]);
    w.value(row[3]);
    if (row.length === 5) {
      w.u8(1);
      w.value(row[4]);
    } else w.u8(0);
  }
}

function decodeDelta(r: BinaryReader): KeyedDelta {
  const parent = r.varint();
  let replacedGroups: number[] | undefined;
  if (r.u8() === 1) {
    const n = r.count();
    replacedGroups = [];
    for (let i = 0; i < n; i++) replacedGroups.push(r.varint());
  }
  const n = r.count();
  const rows: DeltaRow[] = [];
  for (let i = 0; i < n; i++) {
    const state = r.string();
    const kg = r.varint();
    const key = r.value() as KeyType;
    const ns = r.value() as Namespace;
    rows.push(r.u8() === 1 ? [state, kg, key, ns, r.value()] : [state, kg, key, ns]);
  }
  return replacedGroups ? { parent, rows, replacedGroups } : { parent, rows };
}

function encodeOperator(w: BinaryWriter, op: OperatorSnapshot): void {
  w.u8(op.delta ? 1 : 0);
  encodeKeyed(w, op.keyed);
  if (op.delta) encodeDelta(w, op.delta);
  w.varint(op.timers.length);
  for (const g of op.timers) {
    w.varint(g.keyGroup);
    w.varint(g.timers.length);
    for (const [ts, key, ns] of g.timers) {
      w.value(ts);
      w.value(key);
      w.value(ns);
    }
  }
  w.varint(op.list.length);
  for (const v of op.list) w.value(v);
}

function decodeOperator(r: BinaryReader): OperatorSnapshot {
  const flags = r.u8();
  const keyed = decodeKeyed(r);
  const delta = flags & 1 ? decodeDelta(r) : undefined;
  const timers: TimerSnapshot[] = [];
  const ng = r.count();
  for (let i = 0; i < ng; i++) {
    const keyGroup = r.varint();
    const n = r.count();
    const ts: [number, KeyType, Namespace][] = [];
    for (let j = 0; j < n; j++) ts.push([r.value() as number, r.value() as KeyType, r.value() as Namespace]);
    timers.push({ keyGroup, timers: ts });
  }
  const nl = r.count();
  const list: unknown[] = [];
  for (let i = 0; i < nl; i++) list.push(r.value());
  return delta ? { keyed, delta, timers, list } : { keyed, timers, list };
}

export function encodeTaskSnapshot(w: BinaryWriter, snap: TaskSnapshot): void {
  const uids = Object.keys(snap);
  w.u8(VERSION);
  w.varint(uids.length);
  for (const uid of uids) {
    w.string(uid);
    encodeOperator(w, snap[uid]);
  }
}

/** Throws BinaryDecodeError on bytes that are not a whole snapshot (restore treats that as corrupt). */
export function decodeTaskSnapshot(bytes: Uint8Array): TaskSnapshot {
  const r = new BinaryReader(bytes);
  const v = r.u8();
  if (v !== VERSION) throw new BinaryDecodeError(`snapshot format version ${v}, expected ${VERSION}`);
  const n = r.count();
  const snap: TaskSnapshot = {};
  for (let i = 0; i < n; i++) {
    const uid = r.string();
    snap[uid] = decodeOperator(r);
  }
  if (!r.done) throw new BinaryDecodeError(`${bytes.length - r.pos} bytes after the end of the snapshot`);
  return snap;
}

/**
 * A task snapshot as checkpoint storage takes it: streamed to a file, or encoded whole for memory.
 * It holds the chain's uids and their operators' snapshots side by side, and makes the record
 * (uid -> snapshot) only to encode it: the sync phase filled a fresh record per checkpoint before,
 * by uids that differ from task to task, a megamorphic keyed store each (issue 11), and a
 * checkpoint kept in memory and never restored is never encoded at all.
 */
class TaskSnapshotPayload implements StatePayload {
  constructor(private readonly uids: readonly string[], private readonly ops: readonly OperatorSnapshot[]) {}
  private record(): TaskSnapshot {
    const snap: TaskSnapshot = {};
    for (let i = 0; i < this.uids.length; i++) snap[this.uids[i]] = this.ops[i];
    return snap;
  }
  writeTo(sink: ChunkSink): number {
    const w = new BinaryWriter(sink);
    encodeTaskSnapshot(w, this.record());
    w.end();
    return w.length;
  }
  toBytes(): Uint8Array {
    const w = new BinaryWriter();
    encodeTaskSnapshot(w, this.record());
    return w.bytes();
  }
}

/** `ops[i]` is the snapshot of the operator with uid `uids[i]`. */
export function chainSnapshotPayload(uids: readonly string[], ops: readonly OperatorSnapshot[]): StatePayload {
  return new TaskSnapshotPayload(uids, ops);
}

export function snapshotPayload(snap: TaskSnapshot): StatePayload {
  return new TaskSnapshotPayload(Object.keys(snap), Object.values(snap));
}
