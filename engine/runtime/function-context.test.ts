import { describe, expect, it } from "vitest";
import { ListStateDescriptor } from "../api/functions.ts";
import { deserialize, serialize } from "../state/serde.ts";
import { encodeStateKey, decodeStateKey } from "../state/kv/key-codec.ts";
import { encodeKey } from "../state/key-encoding.ts";
import { FunctionOperatorState, instantiate } from "./function-context.ts";

/** Snapshots of `n` subtasks, each holding `per` split entries and one union entry, through serde as a checkpoint would. */
function snapshots(n: number, per: number): unknown[] {
  const all: unknown[] = [];
  for (let s = 0; s < n; s++) {
    const st = new FunctionOperatorState(s, n);
    st.restore(undefined, []);
    const split = st.getListState(new ListStateDescriptor<string>("offsets"));
    for (let i = 0; i < per; i++) split.add(`${s}.${i}`);
    st.getUnionListState(new ListStateDescriptor<Set<number>>("seen")).add(new Set([s]));
    all.push(...st.snapshot());
  }
  return deserialize<unknown[]>(serialize(all));
}

describe("operator list state of CheckpointedFunction", () => {
  it("gives each subtask back its own entries at the same parallelism", () => {
    const list = snapshots(3, 2);
    for (let s = 0; s < 3; s++) {
      const st = new FunctionOperatorState(s, 3);
      st.restore(7, list);
      expect(st.isRestored()).toBe(true);
      expect(st.getRestoredCheckpointId()).toBe(7);
      expect(st.getListState(new ListStateDescriptor<string>("offsets")).get()).toEqual([`${s}.0`, `${s}.1`]);
    }
  });

  it("splits entries over a new parallelism, each exactly once; union state goes to every subtask whole", () => {
    const list = snapshots(2, 5);
    const got: string[] = [];
    for (let s = 0; s < 3; s++) {
      const st = new FunctionOperatorState(s, 3);
      st.restore(1, list);
      got.push(...st.getListState(new ListStateDescriptor<string>("offsets")).get());
      expect(st.getUnionListState(new ListStateDescriptor<Set<number>>("seen")).get()).toEqual([new Set([0]), new Set([1])]);
    }
    expect(got.sort()).toEqual(["0.0", "0.1", "0.2", "0.3", "0.4", "1.0", "1.1", "1.2", "1.3", "1.4"]);
  });

  it("snapshots a copy: later changes to the function's values do not reach the checkpoint", () => {
    const st = new FunctionOperatorState(0, 1);
    const counts = new Map([[1, 1]]);
    st.getListState(new ListStateDescriptor<Map<number, number>>("counts")).update([counts]);
    const snap = st.snapshot();
    counts.set(1, 99);
    expect((snap[0] as { v: Map<number, number> }).v.get(1)).toBe(1);
  });

  it("refuses one name as both split and union state", () => {
    const st = new FunctionOperatorState(0, 1);
    st.getListState(new ListStateDescriptor("x"));
    expect(() => st.getUnionListState(new ListStateDescriptor("x"))).toThrow(/both as union and as split/);
  });
});

describe("instantiate (one copy of a user function per subtask and attempt)", () => {
  class Counter {
    static shared = 0;
    counts = new Map<string, number>();
    seen = new Set<number>();
    constructor(readonly report: (n: number) => void) {}
    bump(k: string): number {
      const n = (this.counts.get(k) ?? 0) + 1;
      this.counts.set(k, n);
      return n;
    }
  }

  it("deep-copies data fields, keeps the prototype, shares functions and statics", () => {
    const calls: number[] = [];
    const orig = new Counter((n) => void calls.push(n));
    orig.bump("a");
    const a = instantiate(orig);
    const b = instantiate(orig);
    expect(a).toBeInstanceOf(Counter);
    expect(a.bump("a")).toBe(2);
    expect(a.bump("a")).toBe(3);
    expect(b.bump("a")).toBe(2);
    expect(orig.counts.get("a")).toBe(1);
    a.report(5);
    b.report(6);
    expect(calls).toEqual([5, 6]);
    expect(a.seen).not.toBe(orig.seen);
  });
});

describe("composite keys in the kv backend's binary keys", () => {
  it("round-trip through encodeStateKey / decodeStateKey", () => {
    for (const k of [encodeKey([1, "a"]), encodeKey({ x: 2n }), encodeKey("\u0001odd"), "plain", 42]) {
      const d = decodeStateKey(encodeStateKey(17, k, "3:9", "window-contents"));
      expect(d).toEqual({ keyGroup: 17, key: k, namespace: "3:9", name: "window-contents" });
    }
  });
});
