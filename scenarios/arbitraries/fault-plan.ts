import fc from "fast-check";
import { FAULT_POINTS, type FaultPoint } from "../../engine/checkpoint/faults.ts";
import type { Fault } from "../../sim/faults/fault-plan.ts";

export interface FaultPlanConstraints {
  /** Points to draw from (default: all). */
  points?: readonly FaultPoint[];
  minFaults?: number;
  maxFaults?: number;
  /** How often each point is passed in a fault-free run: occurrences are drawn within it. */
  passages: ReadonlyMap<string, number>;
  /** Task-name substrings a fault may target ("#0", "Source", ...); a fault may also target any task. */
  tasks?: readonly string[];
  /** Fault kinds to draw (default: in-process crashes only). */
  kinds?: readonly Fault["kind"][];
}

function withDefaults(c: FaultPlanConstraints): Required<FaultPlanConstraints> {
  const r = { passages: c.passages, points: c.points ?? FAULT_POINTS, minFaults: c.minFaults ?? 1, maxFaults: c.maxFaults ?? 3, tasks: c.tasks ?? [], kinds: c.kinds ?? ["crash"] };
  if (r.kinds.length === 0) throw new RangeError("faultPlan: kinds must not be empty");
  if (r.minFaults < 0 || r.maxFaults < r.minFaults) throw new RangeError(`faultPlan: need 0 <= minFaults <= maxFaults, got ${r.minFaults}, ${r.maxFaults}`);
  if (r.points.length === 0) throw new RangeError("faultPlan: points must not be empty");
  return r;
}

/**
 * Fault plans for one scenario: a few crashes, each at a point the run really passes. Points
 * never reached by the fault-free run (e.g. `restore` before any failure) get a small range,
 * since an earlier fault can make them reachable. Shrinks toward fewer faults, earlier
 * occurrences and "any task".
 */
export function faultPlan(c: FaultPlanConstraints): fc.Arbitrary<Fault[]> {
  const r = withDefaults(c);
  const one = fc.constantFrom(...r.points).chain((point) => {
    const max = Math.max(2, r.passages.get(point) ?? 2);
    const task = r.tasks.length ? fc.option(fc.constantFrom(...r.tasks), { nil: undefined, freq: 2 }) : fc.constant(undefined);
    return fc.record({ kind: fc.constantFrom(...r.kinds), occurrence: fc.integer({ min: 1, max }), task }).map(({ kind, occurrence, task }): Fault =>
      task === undefined ? { kind, point, occurrence } : { kind, point, occurrence, task },
    );
  });
  return fc.array(one, { minLength: r.minFaults, maxLength: r.maxFaults });
}
