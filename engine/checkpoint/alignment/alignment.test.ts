import { describe, expect, it } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { Channel } from "../../runtime/channel.ts";
import type { StreamElement } from "../../runtime/elements.ts";
import { CheckpointedInput, type CheckpointedInputOwner, type InFlightBatch } from "../checkpointed-input.ts";
import type { CheckpointOptions } from "../gateway.ts";
import type { AlignmentConfig } from "./types.ts";

/**
 * The alignment state machine, driven through the input it controls (real channels), against a
 * tiny reference model. An input is one sequence per channel of records ("r"), barriers (their
 * checkpoint id, increasing) and an optional end; a schedule picks, step by step, which readable
 * channel the task reads, or delivers a cancellation marker or the alignment timeout.
 */
type Item = "r" | "end" | number;
type Action = { kind: "read"; pick: number } | { kind: "cancel"; id: number } | { kind: "timeout" };
type Mode = "aligned" | "unaligned" | "unaligned-timeout" | "at-least-once";

const CONFIGS: Record<Mode, AlignmentConfig> = {
  aligned: { exactlyOnce: true, unaligned: false, alignedTimeout: 0 },
  unaligned: { exactlyOnce: true, unaligned: true, alignedTimeout: 0 },
  "unaligned-timeout": { exactlyOnce: true, unaligned: true, alignedTimeout: 10 },
  "at-least-once": { exactlyOnce: false, unaligned: false, alignedTimeout: 0 },
};
const OPTS: CheckpointOptions = { final: false, savepoint: false };

type Seen = { kind: "barrier"; c: number; id: number } | { kind: "end"; c: number } | { kind: "cancel"; id: number } | { kind: "timeout"; id: number };

/** The reference: which checkpoints complete, from the events the handler saw, in order. */
function reference(n: number, seen: readonly Seen[]): number[] {
  const done: number[] = [];
  let last = 0;
  let cur: { id: number; got: Set<number> } | undefined;
  const ended = new Set<number>();
  const check = () => {
    if (cur && [...Array(n).keys()].every((c) => cur!.got.has(c) || ended.has(c))) {
      done.push(cur.id);
      last = cur.id;
      cur = undefined;
    }
  };
  for (const e of seen) {
    if (e.kind === "end") ended.add(e.c);
    else if (e.kind === "cancel") {
      if (cur && e.id >= cur.id) cur = undefined;
      last = Math.max(last, e.id);
    } else if (e.kind === "barrier") {
      if (e.id <= last || (cur && e.id < cur.id)) continue;
      if (!cur || e.id > cur.id) cur = { id: e.id, got: new Set() };
      cur.got.add(e.c);
    }
    check();
  }
  return done;
}

interface Outcome {
  processed: number[];
  seen: Seen[];
  snapshotAt: Map<number, number>;
  unalignedSnap: Set<number>;
  channelState: Map<number, number[]>;
  completed: number[];
  stuck: boolean;
}

/** The next action, given how many channels are readable now and the step; undefined ends the schedule. */
type Policy = (readable: number, step: number) => Action | undefined;

function drive(seqs: readonly Item[][], schedule: readonly Action[] | Policy, mode: Mode): { out: Outcome; pre: (id: number) => number[] | undefined } {
  let recordId = 0;
  const channels = seqs.map((_s, c) => new Channel(`c${c}`, { wake() {} }));
  const before = new Map<number, number[]>(); // checkpoint id -> records sent before its barrier, per channel, summed
  const barrierChannels = new Map<number, Set<number>>();
  const all: number[][] = seqs.map(() => []);
  seqs.forEach((seq, c) => {
    const sent: number[] = [];
    for (const it of seq) {
      let el: StreamElement;
      if (it === "r") {
        const id = recordId++;
        sent.push(id);
        all[c].push(id);
        el = { kind: "records", values: [id], timestamps: [0] };
      } else if (it === "end") el = { kind: "end" };
      else {
        before.set(it, [...(before.get(it) ?? []), ...sent]);
        (barrierChannels.get(it) ?? barrierChannels.set(it, new Set()).get(it)!).add(c);
        el = { kind: "barrier", checkpointId: it, options: OPTS };
      }
      channels[c].send(el, 0);
    }
  });
  const out: Outcome = { processed: [], seen: [], snapshotAt: new Map(), unalignedSnap: new Set(), channelState: new Map(), completed: [], stuck: false };
  const timers: number[] = [];
  const owner: CheckpointedInputOwner = {
    snapshot(id, _o, _a, unaligned) {
      out.snapshotAt.set(id, out.processed.length);
      if (unaligned) {
        out.unalignedSnap.add(id);
        out.channelState.set(id, []);
      } else out.completed.push(id);
    },
    inFlight(id, b: InFlightBatch) {
      out.channelState.get(id)!.push(...(b.values as number[]));
    },
    channelStateComplete(id) {
      out.completed.push(id);
    },
    abandon() {},
    timer(_at, id) {
      timers.push(id);
    },
  };
  class Logged extends CheckpointedInput {
    override onBarrier(c: number, id: number, o: CheckpointOptions, now: number): void {
      out.seen.push({ kind: "barrier", c, id });
      super.onBarrier(c, id, o, now);
    }
    override onEndOfPartition(c: number, now: number): void {
      out.seen.push({ kind: "end", c });
      super.onEndOfPartition(c, now);
    }
    override onCancel(id: number, now: number): void {
      out.seen.push({ kind: "cancel", id });
      super.onCancel(id, now);
    }
    override onTimeout(id: number, now: number): void {
      out.seen.push({ kind: "timeout", id });
      super.onTimeout(id, now);
    }
  }
  const input = new Logged(channels, CONFIGS[mode], owner);
  const readOne = (pick: number): boolean => {
    if (input.pollPriority(0)) return true;
    const ready = channels.map((ch, c) => (!input.isBlocked(c) && ch.ready(0) ? c : -1)).filter((c) => c >= 0);
    if (ready.length === 0) return false;
    const c = ready[pick % ready.length];
    const el = channels[c].poll();
    if (el.kind === "records") {
      input.onRecords(c, el.values, el.timestamps);
      out.processed.push(...(el.values as number[]));
    } else if (el.kind === "barrier") input.onBarrier(c, el.checkpointId, el.options, 0);
    else if (el.kind === "end") input.onEndOfPartition(c, 0);
    return true;
  };
  const policy: Policy = typeof schedule === "function" ? schedule : (_r, i) => schedule[i];
  const readable = () => channels.filter((ch, c) => !input.isBlocked(c) && ch.ready(0)).length;
  for (let i = 0; ; i++) {
    const a = policy(readable(), i);
    if (!a) break;
    if (a.kind === "read") readOne(a.pick);
    else if (a.kind === "cancel") input.onCancel(a.id, 0);
    else for (const id of timers.splice(0)) input.onTimeout(id, 10);
  }
  // Drain in channel order. An alignment can wait for a channel that sends nothing more (its
  // barrier would come later): the coordinator then aborts the checkpoint on expiry, which the
  // drain plays. Elements left after that, with nothing readable, would be a stuck input.
  for (let guard = 0; guard < 1000; guard++) {
    if (readOne(0)) continue;
    const s = input.current();
    if (s.kind !== "collecting-aligned" || !channels.some((ch) => ch.nextAt() !== Infinity)) break;
    input.onCancel(s.checkpointId, 0);
  }
  out.stuck = channels.some((ch) => ch.nextAt() !== Infinity);
  const pre = (id: number) => (before.has(id) ? [...(before.get(id) ?? [])].sort((a, b) => a - b) : undefined);
  // A channel that ended without the barrier contributes everything it sent.
  const preWithEnded = (id: number) => {
    const p = pre(id);
    if (!p) return undefined;
    const chs = barrierChannels.get(id)!;
    const extra = seqs.flatMap((seq, c) => (!chs.has(c) && seq.includes("end") ? all[c] : []));
    return [...p, ...extra].sort((a, b) => a - b);
  };
  return { out, pre: preWithEnded };
}

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Checks one run; plain comparisons (an expect per run would make the exhaustive sweep slow), with the run in the message. */
function verify(seqs: Item[][], schedule: Action[] | Policy, mode: Mode): void {
  const { out, pre } = drive(seqs, schedule, mode);
  const fail = (what: string) => expect.fail(`${what}: ${JSON.stringify({ seqs, schedule: typeof schedule === "function" ? "(enumerated)" : schedule, mode, seen: out.seen, completed: out.completed })}`);
  if (out.stuck) fail("stuck input");
  // Every record processed exactly once.
  const total = seqs.flat().filter((x) => x === "r").length;
  if (!same(sorted(out.processed), [...Array(total).keys()])) fail(`records processed ${JSON.stringify(out.processed)}`);
  // The checkpoints that complete are the reference model's.
  if (!same(out.completed, reference(seqs.length, out.seen))) fail(`completed, reference says ${JSON.stringify(reference(seqs.length, out.seen))}`);
  for (const id of out.completed) {
    const expected = pre(id)!;
    const inState = out.processed.slice(0, out.snapshotAt.get(id));
    if (mode === "at-least-once") {
      // At least once: everything before the barriers is in the state (and maybe more).
      if (!expected.every((r) => inState.includes(r))) fail(`cp ${id}: state ${JSON.stringify(inState)} misses some of ${JSON.stringify(expected)}`);
      continue;
    }
    // Exactly once: state plus channel state is exactly what was sent before the barriers.
    const got = sorted([...inState, ...(out.channelState.get(id) ?? [])]);
    if (!same(got, expected)) fail(`cp ${id}: state + channel state ${JSON.stringify(got)}, sent before the barriers ${JSON.stringify(expected)}`);
    if (mode === "aligned" && out.unalignedSnap.has(id)) fail(`cp ${id} unaligned`);
    if (mode === "unaligned" && !out.unalignedSnap.has(id)) fail(`cp ${id} aligned`);
  }
}

/** Every sequence of at most `len` items: records, barriers 1 and 2 (increasing), an end only last. */
function sequences(len: number): Item[][] {
  const out: Item[][] = [];
  const go = (acc: Item[], lastBarrier: number) => {
    out.push(acc);
    if (acc.length === len || acc[acc.length - 1] === "end") return;
    go([...acc, "r"], lastBarrier);
    for (const b of [1, 2]) if (b > lastBarrier) go([...acc, b], b);
    go([...acc, "end"], lastBarrier);
  };
  go([], 0);
  return out;
}

/**
 * Runs `run` once per distinct sequence of choices it makes (depth first): every read order
 * where more than one channel is readable, and every place for the one cancellation and the one
 * timeout. Returns how many runs that took.
 */
function everyChoice(run: (choose: (n: number) => number) => void): number {
  const stack: { i: number; n: number }[] = [];
  for (let runs = 1; ; runs++) {
    let depth = 0;
    run((n) => {
      if (depth < stack.length) return stack[depth++].i;
      stack.push({ i: 0, n });
      depth++;
      return 0;
    });
    while (stack.length && stack[stack.length - 1].i + 1 >= stack[stack.length - 1].n) stack.pop();
    if (!stack.length) return runs;
    stack[stack.length - 1].i++;
  }
}

/** A policy over every choice: read (which channel), or deliver the cancellation / the timeout now. */
function enumerated(choose: (n: number) => number, steps: number, cancel: number | undefined, timeout: boolean): Policy {
  let cancelled = cancel === undefined, timedOut = !timeout;
  return (readable, i) => {
    if (i >= steps + 2) return undefined;
    if (!cancelled && choose(2) === 1) {
      cancelled = true;
      return { kind: "cancel", id: cancel! };
    }
    if (!timedOut && choose(2) === 1) {
      timedOut = true;
      return { kind: "timeout" };
    }
    return { kind: "read", pick: readable > 1 ? choose(readable) : 0 };
  };
}

describe("barrier alignment against the reference model", () => {
  for (const mode of Object.keys(CONFIGS) as Mode[]) {
    it(`${mode}: exhaustively (1 channel up to 3 items, 2 up to 2 each, 3 up to 1 each; 4 channels are drawn below), every read order, with and without a cancellation marker${mode === "unaligned-timeout" ? " and the timeout" : ""} at every step`, () => {
      const timeout = mode === "unaligned-timeout";
      const sizes: [channels: number, items: number][] = [[1, 3], [2, 2], [3, 1]];
      let runs = 0;
      for (const [n, len] of sizes) {
        const seqs = sequences(len);
        let inputs: Item[][][] = [[]];
        for (let c = 0; c < n; c++) inputs = inputs.flatMap((acc) => seqs.map((q) => [...acc, q]));
        for (const cancel of [undefined, 1, 2]) {
          for (const input of inputs) {
            const steps = input.reduce((k, q) => k + q.length, 0);
            runs += everyChoice((choose) => verify(input, enumerated(choose, steps, cancel, timeout), mode));
          }
        }
      }
      expect(runs).toBeGreaterThan(10_000);
    });
  }

  const item = fc.constantFrom<Item>("r", "r", "r", 1, 2, 3, "end");
  const channelSeq = fc.array(item, { maxLength: 6 }).map((xs) => {
    // Barriers increasing, an end only last: drop what breaks the channel's order.
    const out: Item[] = [];
    let last = 0;
    for (const x of xs) {
      if (x === "end") {
        out.push("end");
        break;
      }
      if (typeof x === "number") {
        if (x <= last) continue;
        last = x;
      }
      out.push(x);
    }
    return out;
  });
  const action = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }).map((pick): Action => ({ kind: "read", pick })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((id): Action => ({ kind: "cancel", id })) },
    { weight: 1, arbitrary: fc.constant<Action>({ kind: "timeout" }) },
  );
  test.prop([fc.array(channelSeq, { minLength: 1, maxLength: 4 }), fc.array(action, { maxLength: 30 }), fc.constantFrom(...(Object.keys(CONFIGS) as Mode[]))], { numRuns: 3000 })(
    "on 1-4 channels: drawn inputs, read orders, cancellations and timeouts",
    (seqs, schedule, mode) => verify(seqs, schedule, mode),
  );

  it("a newer barrier before the current one completes abandons it, unblocking the channels (aligned)", () => {
    const { out } = drive([[1, "r", 2], ["r", 2]], [{ kind: "read", pick: 0 }, { kind: "read", pick: 0 }, { kind: "read", pick: 0 }], "aligned");
    expect(out.completed).toEqual([2]);
    expect(out.seen.slice(0, 2)).toEqual([{ kind: "barrier", c: 0, id: 1 }, { kind: "barrier", c: 1, id: 2 }]);
  });

  it("unaligned: the barrier overtakes the records queued ahead of it, which become channel state", () => {
    const { out } = drive([["r", "r", 1], ["r", 1]], [{ kind: "read", pick: 0 }], "unaligned");
    expect(out.completed).toEqual([1]);
    expect(out.snapshotAt.get(1)).toBe(0); // nothing processed yet: both barriers overtook
    expect(out.channelState.get(1)!.sort()).toEqual([0, 1, 2]);
  });
});
