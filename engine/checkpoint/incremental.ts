import type { KeyType } from "../state/keygroups.ts";
import type { KeyGroupState, Namespace } from "../state/keyed-state.ts";
import { toJson } from "../state/serde.ts";

/**
 * Incremental keyed-state checkpoints: a snapshot is written as the rows that changed since the
 * task's last *completed* checkpoint (its parent), plus deletions; restore walks the chain back
 * to a full snapshot and replays the deltas. Bytes written are proportional to what changed.
 * A chain is cut (a full snapshot written) every `maxChain` checkpoints and after every deploy,
 * so a restore never reads more than `maxChain` files per task.
 *
 * The delta is found by comparing the full synchronous snapshot with the base one, so CPU per
 * checkpoint stays proportional to state size; only the bytes written shrink.
 */
export type DeltaRow = [state: string, keyGroup: number, key: KeyType, ns: Namespace, value: unknown] | [state: string, keyGroup: number, key: KeyType, ns: Namespace];

export interface KeyedDelta {
  readonly parent: number;
  readonly rows: DeltaRow[];
  /** Key groups written whole (a backend that tracks changes per key group): their old rows go first. */
  readonly replacedGroups?: number[];
}

type Flat = Map<string, { row: [string, number, KeyType, Namespace]; enc: string; value: unknown }>;

function flatten(groups: readonly KeyGroupState[]): Flat {
  const m: Flat = new Map();
  for (const g of groups) {
    for (const [state, rows] of Object.entries(g.states)) {
      for (const [key, ns, value] of rows) {
        m.set(`${state}\u0000${g.keyGroup}\u0000${typeof key}${key}\u0000${typeof ns}${ns}`, { row: [state, g.keyGroup, key, ns], enc: toJson(value), value });
      }
    }
  }
  return m;
}

/**
 * Per task: its own snapshots of checkpoints that may still serve as a base (pending ones, and
 * the last completed). A delta is written against the base the coordinator named at trigger time
 * (so it knows which parents pending checkpoints need); without one, against the last completed.
 */
export class IncrementalTracker {
  private baseId: number | undefined;
  private readonly snaps = new Map<number, { uids: Map<string, Flat>; chain: number }>();

  constructor(private readonly maxChain = 10) {}

  /** The delta of `full` against the base, or undefined when a full snapshot must be written. */
  delta(checkpointId: number, uid: string, full: readonly KeyGroupState[], base: number | undefined = this.baseId): KeyedDelta | undefined {
    const flat = flatten(full);
    const b = base === undefined ? undefined : this.snaps.get(base);
    let p = this.snaps.get(checkpointId);
    if (!p) this.snaps.set(checkpointId, (p = { uids: new Map(), chain: !b || b.chain + 1 >= this.maxChain ? 0 : b.chain + 1 }));
    p.uids.set(uid, flat);
    const baseFlat = b?.uids.get(uid);
    if (p.chain === 0 || !baseFlat) return undefined;
    const rows: DeltaRow[] = [];
    for (const [k, v] of flat) {
      const o = baseFlat.get(k);
      if (!o || o.enc !== v.enc) rows.push([...v.row, v.value]);
    }
    for (const [k, o] of baseFlat) if (!flat.has(k)) rows.push(o.row);
    return { parent: base!, rows };
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
  for (const [k, v] of flatten(full)) flat.set(k, { row: v.row, value: v.value });
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
