import { ListStateDescriptor, RichSinkFunction, type CheckpointedFunction, type FunctionInitializationContext } from "../api/functions.ts";
import type { ListState } from "../state/keyed-state.ts";
import type { IntType } from "./failing-source.ts";

/** The window functions' output: Flink's Tuple4<Long, Long, Long, IntType> (key, window start, end, value). */
export type Record4 = [key: number, start: number, end: number, value: IntType];

/** What a sink saw, for the test to assert on after the job (the sink also throws on the first bad window). */
export interface SinkVerdict {
  windowCounts: Map<number, number>;
  problems: string[];
  finished: boolean;
}

/**
 * The ITCase's ValidatingSink: checks every window's sum (the elements are 0..N-1, one per
 * event-time ms, so window [s, e) must hold the sum of max(s,0)..min(e,N)-1) and counts
 * windows per key in checkpointed list state; at the end every key must have exactly the
 * expected number of windows. With `countMode`, Flink's CountValidatingSink instead: the value
 * is key + the number of windows of that key so far (a window function's keyed state).
 */
export class ValidatingSink extends RichSinkFunction<Record4> implements CheckpointedFunction {
  private windowCounts = new Map<number, number>();
  private state!: ListState<Map<number, number>>;
  private readonly problems: string[] = [];

  constructor(
    private readonly numKeys: number,
    private readonly numElements: number,
    private readonly numWindowsExpected: number,
    private readonly countMode: boolean,
    /** Shared by every copy (a function field): where the verdict goes. */
    private readonly report: (v: SinkVerdict) => void,
  ) {
    super();
  }

  override open(): void {
    if (this.getRuntimeContext().getNumberOfParallelSubtasks() !== 1) throw new Error("ValidatingSink can only work with parallelism 1");
  }

  initializeState(ctx: FunctionInitializationContext): void {
    this.state = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<Map<number, number>>("window-counts"));
    if (!ctx.isRestored()) return;
    const s = this.state.get();
    if (s.length !== 1) throw new Error(`Test failed due to unexpected recovered state size ${s.length}`);
    this.windowCounts = new Map(s[0]);
  }

  snapshotState(): void {
    this.state.update([this.windowCounts]);
  }

  invoke(value: Record4): void {
    const [key, start, end, v] = value;
    const count = (this.windowCounts.get(key) ?? 0) + 1;
    this.windowCounts.set(key, count);
    let expected: number;
    if (this.countMode) expected = key + count;
    else {
      expected = 0;
      for (let i = Math.max(start, 0); i < Math.min(end, this.numElements); i++) expected += i;
    }
    if (v.value !== expected) this.fail(`key ${key} window [${start}, ${end}): expected ${this.countMode ? "count value" : "sum"} ${expected}, got ${v.value}`);
    if (count > this.numWindowsExpected) this.fail(`key ${key}: window count too high: ${count} > ${this.numWindowsExpected}`);
  }

  override finish(): void {
    for (let k = 0; k < this.numKeys; k++) {
      const n = this.windowCounts.get(k) ?? 0;
      if (n !== this.numWindowsExpected) this.problems.push(`key ${k}: saw ${n} windows, expected ${this.numWindowsExpected}`);
    }
    this.report({ windowCounts: new Map(this.windowCounts), problems: [...this.problems], finished: true });
    if (this.problems.length) throw new Error(`The sink must see all expected windows: ${this.problems[0]}`);
  }

  private fail(msg: string): never {
    this.problems.push(msg);
    this.report({ windowCounts: new Map(this.windowCounts), problems: [...this.problems], finished: false });
    throw new Error(msg);
  }
}
