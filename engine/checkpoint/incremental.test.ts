import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { HeapKeyedStateBackend } from "../state/heap-keyed-backend.ts";
import { assignToKeyGroup } from "../state/keygroups.ts";
import { applyDeltas, IncrementalTracker, type KeyedDelta } from "./incremental.ts";
import { serialize } from "../state/serde.ts";
import type { KeyGroupState } from "../state/keyed-state.ts";

type Op = { kind: "add"; key: number; ns: number; v: bigint } | { kind: "clear"; key: number; ns: number } | { kind: "checkpoint"; completes: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), key: fc.integer({ min: 0, max: 30 }), ns: fc.integer({ min: 0, max: 2 }), v: fc.bigInt({ min: 0n, max: 10n ** 20n }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("clear" as const), key: fc.integer({ min: 0, max: 30 }), ns: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("checkpoint" as const), completes: fc.boolean() }) },
);

/**
 * Plain rows, each state's rows sorted by (key, namespace): row order inside a state is insertion
 * order on the heap and carries no meaning. Plain objects, because a captured group's `states`
 * is a prototype getter, which deep equality does not read.
 */
const rowsOf = (gs: readonly KeyGroupState[]) =>
  gs.map((g) => ({
    keyGroup: g.keyGroup,
    states: Object.fromEntries(Object.entries(g.states).map(([name, rows]) => [name, [...rows].sort((a, b) => Number(a[0]) - Number(b[0]) || Number(a[1]) - Number(b[1]))])),
  }));

describe("incremental checkpoints", () => {
  test.prop([fc.array(opArb, { maxLength: 300, size: "max" }), fc.integer({ min: 2, max: 6 })])(
    "restoring a chain of deltas gives exactly the full snapshot, whatever completes or fails",
    (ops, maxChain) => {
      const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
      const st = b.getReducingState<bigint>("s", (x, y) => x + y);
      const tracker = new IncrementalTracker(maxChain);
      // The same snapshots as plain rows (what another backend hands over): the same deltas.
      const plainTracker = new IncrementalTracker(maxChain);
      const written = new Map<number, { full?: KeyGroupState[]; delta?: KeyedDelta; expect: KeyGroupState[] }>();
      let id = 0;
      let base: number | undefined; // the last completed: what the coordinator names
      for (const op of ops) {
        if (op.kind === "checkpoint") {
          id++;
          const full = b.snapshot();
          const delta = tracker.delta(id, "w", full, base);
          expect(plainTracker.delta(id, "w", full.map((g) => ({ keyGroup: g.keyGroup, states: structuredClone(g.states) })), base)).toEqual(delta);
          if (op.completes) plainTracker.completed(id);
          written.set(id, { full: delta ? undefined : full, delta, expect: full });
          if (op.completes) tracker.completed(id), (base = id);
          continue;
        }
        b.setCurrentKey(op.key, assignToKeyGroup(op.key, 128));
        st.setCurrentNamespace(op.ns);
        if (op.kind === "add") st.add(op.v);
        else st.clear();
      }
      const resolve = (cp: number): KeyGroupState[] => {
        const w = written.get(cp)!;
        return w.delta ? applyDeltas(resolve(w.delta.parent), [w.delta]) : w.full!;
      };
      for (const [cp, w] of written) expect(rowsOf(resolve(cp)), `checkpoint ${cp}`).toEqual(rowsOf(w.expect));
    },
  );

  it("after changing 1% of 10,000 keys, writes under 5% of the full checkpoint's bytes", () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: 127 });
    const st = b.getReducingState<bigint>("window-contents", (x, y) => x + y);
    st.setCurrentNamespace(1_723_161_240_000);
    const touch = (k: number, v: bigint) => {
      b.setCurrentKey(`SYM${k}`, assignToKeyGroup(`SYM${k}`, 128));
      st.add(v);
    };
    for (let k = 0; k < 10_000; k++) touch(k, BigInt(k) * 1_000n);
    const tracker = new IncrementalTracker();
    const full = b.snapshot();
    expect(tracker.delta(1, "w", full, undefined)).toBeUndefined(); // the first is always full
    tracker.completed(1);
    for (let k = 0; k < 10_000; k += 100) touch(k, 7n);
    const delta = tracker.delta(2, "w", b.snapshot(), 1)!;
    expect(delta.rows).toHaveLength(100);
    const fullBytes = serialize({ keyed: full }).length;
    const deltaBytes = serialize({ delta }).length;
    expect(deltaBytes / fullBytes).toBeLessThan(0.05);
  });
});
