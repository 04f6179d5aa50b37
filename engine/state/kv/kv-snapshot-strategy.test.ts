import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { applyDeltas, type KeyedDelta } from "../../checkpoint/incremental.ts";
import type { KeyGroupState } from "../keyed-state.ts";
import { assignToKeyGroup } from "../keygroups.ts";
import { KvKeyedStateBackend } from "./kv-keyed-backend.ts";
import { KvChangeTrackingSnapshots } from "./kv-snapshot-strategy.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-kvinc-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;

type Op = { kind: "add"; key: number; v: bigint } | { kind: "clear"; key: number } | { kind: "checkpoint"; completes: boolean; savepoint: boolean };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), key: fc.integer({ min: 0, max: 40 }), v: fc.bigInt({ min: 0n, max: 10n ** 12n }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("clear" as const), key: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("checkpoint" as const), completes: fc.boolean(), savepoint: fc.boolean() }) },
);

describe("kv incremental snapshots from the backend's change tracking", () => {
  test.prop([fc.array(opArb, { minLength: 40, maxLength: 200 }), fc.integer({ min: 2, max: 5 })], { numRuns: 40 })(
    "a chain of key-group deltas against the named base restores exactly the full state, whatever completes",
    (ops, maxChain) => {
      const b = new KvKeyedStateBackend({ start: 0, end: 127 }, path.join(root, `b${++n}`), { writeBufferEntries: 8 });
      const model = new Map<number, bigint>(); // the truth
      try {
        const strategy = new KvChangeTrackingSnapshots(b, maxChain);
        const st = b.getReducingState<bigint>("s", (x, y) => x + y);
        const written = new Map<number, { full?: KeyGroupState[]; delta?: KeyedDelta }>();
        let id = 0;
        let latest: number | undefined;
        let deltas = 0;
        for (const op of ops) {
          if (op.kind !== "checkpoint") {
            b.setCurrentKey(op.key, assignToKeyGroup(op.key, 128));
            st.setCurrentNamespace("");
            if (op.kind === "add") {
              st.add(op.v);
              model.set(op.key, (model.get(op.key) ?? 0n) + op.v);
            } else {
              st.clear();
              model.delete(op.key);
            }
            continue;
          }
          id++;
          const options = { final: false, savepoint: op.savepoint, ...(latest !== undefined && !op.savepoint ? { base: latest } : {}) };
          strategy.beforeSnapshot(id, options);
          const snap = strategy.snapshot(id, "w", { keyed: b.snapshot(), timers: [], list: [] });
          written.set(id, snap.delta ? { delta: snap.delta } : { full: snap.keyed });
          const resolve = (cp: number): KeyGroupState[] => {
            const w = written.get(cp)!;
            return w.delta ? applyDeltas(resolve(w.delta.parent), [w.delta]) : w.full!;
          };
          const got = new Map(resolve(id).flatMap((g) => (g.states.s ?? []).map(([k, _ns, v]) => [k as number, v as bigint] as const)));
          expect(got, `checkpoint ${id}`).toEqual(model);
          if (snap.delta) {
            expect(snap.delta.parent).toBe(latest);
            deltas++;
          }
          if (op.completes && !op.savepoint) {
            strategy.completed(id);
            latest = id;
          }
        }
        // Not trivially true: with this many completed checkpoints some were written as deltas.
        if (ops.filter((o) => o.kind === "checkpoint" && o.completes && !o.savepoint).length >= 3) expect(deltas).toBeGreaterThan(0);
      } finally {
        b.dispose();
      }
    },
  );
});
