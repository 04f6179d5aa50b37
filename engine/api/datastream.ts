import type { KeyType } from "../state/keygroups.ts";
import { sumAggregate, type SumAcc, type TimeWindow, type WindowResultFn } from "../runtime/window-operator.ts";
import type { AggregateFunction } from "../state/keyed-state.ts";
import type { Collector } from "../runtime/basic-operators.ts";
import type { Sink } from "./sink.ts";
import type { NewTransformation, Transformation } from "./transformation.ts";
import { describeAssigner, type WindowAssigner } from "./windows.ts";
import type { OutputTag } from "./windows.ts";
import { encodeKey } from "../state/key-encoding.ts";
import type { KeyedProcessFunction, ProcessFunction, ProcessWindowFunction, SinkFunction, WindowFunction } from "./functions.ts";
import { FunctionSink } from "../runtime/function-sink-operator.ts";
import type { AnyWindowFn } from "../runtime/process-window-operator.ts";
import type { Millis } from "./time.ts";

/** The environment as the streams see it: it numbers and records transformations. */
export interface StreamGraphBuilder {
  add(t: NewTransformation): Transformation;
  /** The sink print() writes to: the environment supplies it, so the API imports no connector. */
  printSink<T>(prefix?: string): Sink<T>;
}

/** A window's result for `sum(field)`: the window, the key, the exact sum and the record count. */
export interface WindowSum<K = unknown> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
  readonly field: string;
  readonly sum: bigint | number;
  readonly count: number;
}

export class DataStream<T> {
  constructor(protected readonly env: StreamGraphBuilder, readonly transformation: Transformation) {}

  map<R>(fn: (value: T) => R): SingleOutputStreamOperator<R> {
    return this.op<R>({ kind: "map", name: "Map", input: this.transformation, fn });
  }

  filter(fn: (value: T) => boolean): SingleOutputStreamOperator<T> {
    return this.op<T>({ kind: "filter", name: "Filter", input: this.transformation, fn });
  }

  flatMap<R>(fn: (value: T, out: Collector<R>) => void): SingleOutputStreamOperator<R> {
    return this.op<R>({ kind: "flatMap", name: "Flat Map", input: this.transformation, fn });
  }

  /**
   * Partitions by key. The key may be any serializable value: a string or number (hashed
   * exactly as Flink hashes String / Integer / Long), or a tuple (array), bigint, boolean or
   * plain object, carried as a stable encoding. `keyBy(0, 2)` keys a tuple stream by fields,
   * as Flink's deprecated keyBy(int...) does (the key is the tuple of those fields).
   */
  keyBy<K>(keySelector: (value: T) => K): KeyedStream<T, K>;
  keyBy(...fields: number[]): KeyedStream<T, unknown[]>;
  keyBy<K>(first: ((value: T) => K) | number, ...more: number[]): KeyedStream<T, K> {
    let user: (v: T) => unknown;
    if (typeof first === "function") user = first;
    else {
      const fields = [first, ...more];
      for (const f of fields) if (!Number.isInteger(f) || f < 0) throw new RangeError(`keyBy(${fields.join(", ")}): field positions must be whole numbers >= 0`);
      user = (v: T) => fields.map((f) => (v as unknown as unknown[])[f]);
    }
    const keySelector = (v: T): KeyType => {
      const k = user(v);
      // Strings and safe integers are the common case and pass through untouched (no allocation).
      return typeof k === "string" && k.charCodeAt(0) !== 1 ? k : typeof k === "number" && Number.isSafeInteger(k) ? k : encodeKey(k);
    };
    const t = this.env.add({ kind: "keyBy", name: "KeyBy", input: this.transformation, keySelector }) as Transformation & { kind: "keyBy" };
    return new KeyedStream<T, K>(this.env, t);
  }

  /** Round-robin over the next operator's subtasks (Flink's rebalance()). */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.env, this.env.add({ kind: "rebalance", name: "Rebalance", input: this.transformation }));
  }

  /** One stream of this and the others' records (Flink's union: the next operator reads them all). */
  union(...others: DataStream<T>[]): DataStream<T> {
    if (others.length === 0) return this;
    return new DataStream<T>(this.env, this.env.add({ kind: "union", name: "Union", inputs: [this.transformation, ...others.map((o) => o.transformation)] }));
  }

  /** A ProcessFunction per record (no timers: those need keyBy(...).process(KeyedProcessFunction)). */
  process<R>(fn: ProcessFunction<T, R>): SingleOutputStreamOperator<R> {
    return this.op<R>({ kind: "process", name: "Process", input: this.transformation, fn });
  }

  /** Flink's addSink(SinkFunction): with CheckpointedFunction / CheckpointListener when the function implements them. */
  addSink(fn: SinkFunction<T>, name = "Unnamed"): DataStreamSink<T> {
    return this.sinkTo(new FunctionSink<T>(fn, name), `Sink: ${name}`);
  }

  sinkTo(sink: Sink<T>, name?: string): DataStreamSink<T> {
    const t = this.env.add({ kind: "sink", name: name ?? `Sink: ${sink.sinkName}`, input: this.transformation, sink });
    return new DataStreamSink<T>(t);
  }

  /** Flink's print(): a non-transactional sink to stdout (or the given writer). */
  print(prefix?: string): DataStreamSink<T> {
    return this.sinkTo(this.env.printSink<T>(prefix), "Print to Std. Out");
  }

  private op<R>(t: NewTransformation): SingleOutputStreamOperator<R> {
    return new SingleOutputStreamOperator<R>(this.env, this.env.add(t));
  }
}

/** name / uid / setParallelism, shared by operators and sinks. */
function setParallelism(t: Transformation, p: number): void {
  if (!Number.isInteger(p) || p < 1) throw new RangeError(`setParallelism(${p}) on "${t.name}": parallelism must be a whole number >= 1`);
  t.parallelism = p;
}

export class SingleOutputStreamOperator<T> extends DataStream<T> {
  name(name: string): this {
    this.transformation.name = name;
    return this;
  }
  uid(uid: string): this {
    this.transformation.uid = uid;
    return this;
  }
  setParallelism(p: number): this {
    setParallelism(this.transformation, p);
    return this;
  }
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    return new DataStream<X>(this.env, this.env.add({ kind: "sideOutput", name: `SideOutput(${tag.id})`, input: this.transformation, tag: tag.id }));
  }
}

export class DataStreamSink<T> {
  declare readonly _type?: T;
  constructor(readonly transformation: Transformation) {}
  name(name: string): this {
    this.transformation.name = name;
    return this;
  }
  uid(uid: string): this {
    this.transformation.uid = uid;
    return this;
  }
  setParallelism(p: number): this {
    setParallelism(this.transformation, p);
    return this;
  }
}

export class KeyedStream<T, K> extends DataStream<T> {
  window(assigner: WindowAssigner): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this.env, this.transformation as Transformation & { kind: "keyBy" }, assigner);
  }

  /**
   * A KeyedProcessFunction: keyed state and event-time / processing-time timers per key. A plain
   * ProcessFunction on a keyed stream gets the same (Flink's deprecated keyed ProcessFunction).
   */
  override process<R>(fn: KeyedProcessFunction<K, T, R> | ProcessFunction<T, R>): SingleOutputStreamOperator<R> {
    const t = this.env.add({ kind: "keyedProcess", name: "KeyedProcess", input: this.transformation as Transformation & { kind: "keyBy" }, fn });
    return new SingleOutputStreamOperator<R>(this.env, t);
  }
}

export class WindowedStream<T, K> {
  private lateness: Millis = 0;
  private lateTag?: string;

  constructor(private readonly env: StreamGraphBuilder, private readonly input: Transformation & { kind: "keyBy" }, private readonly assigner: WindowAssigner) {}

  allowedLateness(ms: Millis): this {
    if (!(ms >= 0)) throw new RangeError(`allowedLateness(${ms}): must be >= 0`);
    this.lateness = ms;
    return this;
  }

  /** Late records go to this side output (they are counted in the job result either way). */
  sideOutputLateData(tag: OutputTag<any>): this {
    this.lateTag = tag.id;
    return this;
  }

  /** Exact sum of a numeric or bigint field per key and window, with the window and count. */
  sum(field: keyof T & string): SingleOutputStreamOperator<WindowSum<K>> {
    const name = `Window(${describeAssigner(this.assigner)}, sum(${field}))`;
    return this.build<SumAcc, SumAcc, WindowSum<K>>(name, sumAggregate<T>(field, name), (key, w, acc) => ({
      key,
      start: w.start,
      end: w.end,
      field,
      sum: acc.sum,
      count: acc.count,
    }));
  }

  /** Incremental reduce; with a window function, it sees the one reduced value per window (Flink's reduce(reduceFn, windowFn)). */
  reduce(fn: (a: T, b: T) => T): SingleOutputStreamOperator<T>;
  reduce<OUT>(fn: (a: T, b: T) => T, windowFn: AnyWindowFn<T, OUT, K>): SingleOutputStreamOperator<OUT>;
  reduce<OUT>(fn: (a: T, b: T) => T, windowFn?: AnyWindowFn<T, OUT, K>): SingleOutputStreamOperator<T | OUT> {
    const agg: AggregateFunction<T, T | undefined, T> = {
      createAccumulator: () => undefined,
      add: (v, acc) => (acc === undefined ? v : fn(acc, v)),
      getResult: (acc) => acc as T,
      merge: (a, b) => (a === undefined ? b : b === undefined ? a : fn(a, b)),
    };
    if (windowFn) return this.buildProcess(`Window(${describeAssigner(this.assigner)}, reduce, window function)`, agg, windowFn);
    return this.build(`Window(${describeAssigner(this.assigner)}, reduce)`, agg, (_k, _w, r) => r);
  }

  /**
   * Incremental aggregate; the window function is either a plain `(key, window, result) => out`,
   * or Flink's WindowFunction / ProcessWindowFunction seeing the one aggregate per window.
   */
  aggregate<ACC, R, OUT = R>(fn: AggregateFunction<T, ACC, R>, windowFn?: ((key: K, window: TimeWindow, result: R) => OUT) | AnyWindowFn<R, OUT, K>): SingleOutputStreamOperator<OUT> {
    if (windowFn !== undefined && typeof windowFn !== "function") return this.buildProcess(`Window(${describeAssigner(this.assigner)}, aggregate, window function)`, fn, windowFn);
    const result: WindowResultFn<K, R, OUT> = windowFn ?? ((_k, _w, r) => r as unknown as OUT);
    return this.build(`Window(${describeAssigner(this.assigner)}, aggregate)`, fn, result);
  }

  /** Flink's apply(WindowFunction): every element of the window when it fires. */
  apply<OUT>(fn: WindowFunction<T, OUT, K>): SingleOutputStreamOperator<OUT> {
    return this.buildProcess(`Window(${describeAssigner(this.assigner)}, apply)`, undefined, fn);
  }

  /** Flink's process(ProcessWindowFunction): every element, with per-window and global keyed state. */
  process<OUT>(fn: ProcessWindowFunction<T, OUT, K>): SingleOutputStreamOperator<OUT> {
    return this.buildProcess(`Window(${describeAssigner(this.assigner)}, process)`, undefined, fn);
  }

  private buildProcess<OUT>(name: string, agg: AggregateFunction<T, any, any> | undefined, fn: AnyWindowFn<any, OUT, K>): SingleOutputStreamOperator<OUT> {
    const t = this.env.add({ kind: "processWindow", name, input: this.input, assigner: this.assigner, agg, fn, allowedLateness: this.lateness, lateTag: this.lateTag });
    return new SingleOutputStreamOperator<OUT>(this.env, t);
  }

  private build<ACC, R, OUT>(name: string, agg: AggregateFunction<T, ACC, R>, result: WindowResultFn<K, R, OUT>): SingleOutputStreamOperator<OUT> {
    const t = this.env.add({
      kind: "window",
      name,
      input: this.input,
      assigner: this.assigner,
      agg,
      result,
      allowedLateness: this.lateness,
      lateTag: this.lateTag,
    });
    return new SingleOutputStreamOperator<OUT>(this.env, t);
  }
}
