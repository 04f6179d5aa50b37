import type { KeyType } from "../state/keygroups.ts";
import type { KeyGroupState, Namespace } from "../state/keyed-state.ts";
import { CapturedKeyGroup, type KeyMap } from "../state/cow-state-table.ts";
import { toJson } from "../state/serde.ts";

/**
 * Incremental keyed-state checkpoints: a snapshot is written as the rows that changed since the
 * task's last *completed* checkpoint (its parent), plus deletions; restore walks the chain back
 * to a full snapshot and replays the deltas. Bytes written are proportional to what changed.
 * A chain is cut (a full snapshot written) every `maxChain` checkpoints and after every deploy,
 * so a restore never reads more than `maxChain` files per task.
 *
 * The delta compares the snapshot with its base per key group and state. The heap backend's
 * snapshots are copy-on-write (cow-state-table.ts): a group's map that is the very same object
 * in both was not written in between and is skipped whole, so the CPU per checkpoint follows the
 * groups written, not the state size. In a written group, rows compare by identity (state
 * updates replace values; list and map state are copied with their group) and, where both are
 * containers, by their encoding. A value mutated in place without going through its state
 * handle is not seen — as in Flink, state objects change through the handle.
 */
export type DeltaRow = [state: string, keyGroup: number, key: KeyType, ns: Namespace, value: unknown] | [state: string, keyGroup: number, key: KeyType, ns: Namespace];

export interface KeyedDelta {
  readonly parent: number;
  readonly rows: DeltaRow[];
  /** Key groups written whole (a backend that tracks changes per key group): their old rows go first. */
  readonly replacedGroups?: number[];
}

/** One snapshot as the tracker keeps it: key group -> state name -> key -> namespace -> value. */
type Tables = Map<number, Map<string, KeyMap>>;

function tablesOf(groups: readonly KeyGroupState[]): Tables {
  const out: Tables = new Map();
  for (const g of groups) {
    const byState = new Map<string, KeyMap>();
    if (g instanceof CapturedKeyGroup) {
      for (const [name, km] of g.tables) byState.set(name, km);
    } else {
      for (const [name, rows] of Object.entries(g.states)) {
        const km: KeyMap = new Map();
        for (const [key, ns, v] of rows) {
          let nm = km.get(key);
          if (nm === undefined) km.set(key, (nm = new Map()));
          nm.set(ns, v);
        }
        byState.set(name, km);
      }
    }
    out.set(g.keyGroup, byState);
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === "object" && typeof b === "object" && a !== null && b !== null && toJson(a) === toJson(b);
}

function diff(cur: Tables, base: Tables): DeltaRow[] {
  const rows: DeltaRow[] = [];
  const gone: DeltaRow[] = [];
  for (const [kg, states] of cur) {
    const baseStates = base.get(kg);
    for (const [name, km] of states) {
      const bkm = baseStates?.get(name);
      if (bkm === km) continue; // not written since the base
      for (const [key, nm] of km) {
        const bnm = bkm?.get(key);
        for (const [ns, v] of nm) {
          if (bnm === undefined || !bnm.has(ns) || !sameValue(v, bnm.get(ns))) rows.push([name, kg, key, ns, v]);
        }
      }
      if (bkm) for (const [key, bnm] of bkm) {
        const nm = km.get(key);
        for (const ns of bnm.keys()) if (nm === undefined || !nm.has(ns)) gone.push([name, kg, key, ns]);
      }
    }
    if (baseStates) for (const [name, bkm] of baseStates) {
      if (states.has(name)) continue;
      for (const [key, bnm] of bkm) for (const ns of bnm.keys()) gone.push([name, kg, key, ns]);
    }
  }
  for (const [kg, baseStates] of base) {
    if (cur.has(kg)) continue;
    for (const [name, bkm] of baseStates) for (const [key, bnm] of bkm) for (const ns of bnm.keys()) gone.push([name, kg, key, ns]);
  }
  for (const r of gone) rows.push(r);
  return rows;
}

/**
 * Per task: its own snapshots of checkpoints that may still serve as a base (pending ones, and
 * the last completed). A delta is written only against the base the coordinator named at trigger
 * time, so the coordinator knows which parents pending checkpoints need and keeps them. Without a
 * named base the snapshot is whole: a checkpoint triggered before any completed, whose task heard
 * of a completion before its barrier came, once wrote a delta against that checkpoint, which the
 * coordinator did not keep for it (retention discarded it, and the restore failed).
 */
export class IncrementalTracker {
  private baseId: number | undefined;
  private readonly snaps = new Map<number, { uids: Map<string, Tables>; chain: number }>();

  constructor(private readonly maxChain = 10) {}

  /** The delta of `full` against the base, or undefined when a full snapshot must be written. */
  delta(checkpointId: number, uid: string, full: readonly KeyGroupState[], base: number | undefined): KeyedDelta | undefined {
    const tables = tablesOf(full);
    const b = base === undefined ? undefined : this.snaps.get(base);
    let p = this.snaps.get(checkpointId);
    if (!p) this.snaps.set(checkpointId, (p = { uids: new Map(), chain: !b || b.chain + 1 >= this.maxChain ? 0 : b.chain + 1 }));
    p.uids.set(uid, tables);
    const baseTables = b?.uids.get(uid);
    if (p.chain === 0 || !baseTables) return undefined;
    return { parent: base!, rows: diff(tables, baseTables) };
  }

  completed(checkpointId: number): void {
    if (this.snaps.has(checkpointId)) this.baseId = checkpointId;
    for (const id of [...this.snaps.keys()]) if (id < checkpointId) this.snaps.delete(id);
  }

  aborted(checkpointId: number): void {
    if (checkpointId !== this.baseId) this.snaps.delete(checkpointId);
  }
}

/** Applies deltas (oldest first) to a full snapshot: the state as of the newest delta. */
export function applyDeltas(full: readonly KeyGroupState[], deltas: readonly KeyedDelta[]): KeyGroupState[] {
  const flat = new Map<string, { row: [string, number, KeyType, Namespace]; value: unknown }>();
  for (const g of full) {
    for (const [state, rows] of Object.entries(g.states)) {
      for (const [key, ns, value] of rows) flat.set(`${state}\u0000${g.keyGroup}\u0000${typeof key}${key}\u0000${typeof ns}${ns}`, { row: [state, g.keyGroup, key, ns], value });
    }
  }
  for (const d of deltas) {
    if (d.replacedGroups?.length) {
      const replaced = new Set(d.replacedGroups);
      for (const [k, v] of flat) if (replaced.has(v.row[1])) flat.delete(k);
    }
    for (const r of d.rows) {
      const k = `${r[0]}\u0000${r[1]}\u0000${typeof r[2]}${r[2]}\u0000${typeof r[3]}${r[3]}`;
      if (r.length === 4) flat.delete(k);
      else flat.set(k, { row: [r[0], r[1], r[2], r[3]], value: r[4] });
    }
  }
  const groups = new Map<number, KeyGroupState>();
  for (const { row: [state, kg, key, ns], value } of flat.values()) {
    let g = groups.get(kg);
    if (!g) groups.set(kg, (g = { keyGroup: kg, states: {} }));
    (g.states[state] ??= []).push([key, ns, value]);
  }
  return [...groups.values()].sort((a, b) => a.keyGroup - b.keyGroup);
}
