import type { KeyType } from "../state/keygroups.ts";
import { sumAggregate, type SumAcc, type TimeWindow, type WindowResultFn } from "../runtime/window-operator.ts";
import type { AggregateFunction } from "../state/keyed-state.ts";
import type { Collector } from "../runtime/basic-operators.ts";
import type { Sink } from "./sink.ts";
import type { NewTransformation, Transformation } from "./transformation.ts";
import type { WindowAssigner } from "./windows.ts";
import type { OutputTag } from "./windows.ts";
import type { Millis } from "./time.ts";

/** The environment as the streams see it: it numbers and records transformations. */
export interface StreamGraphBuilder {
  add(t: NewTransformation): Transformation;
  /** The sink print() writes to: the environment supplies it, so the API imports no connector. */
  printSink<T>(prefix?: string): Sink<T>;
}

/** A window's result for `sum(field)`: the window, the key, the exact sum and the record count. */
export interface WindowSum<K = KeyType> {
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

  keyBy<K extends KeyType>(keySelector: (value: T) => K): KeyedStream<T, K> {
    const t = this.env.add({ kind: "keyBy", name: "KeyBy", input: this.transformation, keySelector }) as Transformation & { kind: "keyBy" };
    return new KeyedStream<T, K>(this.env, t);
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

export class KeyedStream<T, K extends KeyType> extends DataStream<T> {
  window(assigner: WindowAssigner): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this.env, this.transformation as Transformation & { kind: "keyBy" }, assigner);
  }
}

export class WindowedStream<T, K extends KeyType> {
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
    const name = `Window(${describe(this.assigner)}, sum(${field}))`;
    return this.build<SumAcc, SumAcc, WindowSum<K>>(name, sumAggregate<T>(field, name), (key, w, acc) => ({
      key,
      start: w.start,
      end: w.end,
      field,
      sum: acc.sum,
      count: acc.count,
    }));
  }

  reduce(fn: (a: T, b: T) => T): SingleOutputStreamOperator<T> {
    const agg: AggregateFunction<T, T | undefined, T> = {
      createAccumulator: () => undefined,
      add: (v, acc) => (acc === undefined ? v : fn(acc, v)),
      getResult: (acc) => acc as T,
      merge: (a, b) => (a === undefined ? b : b === undefined ? a : fn(a, b)),
    };
    return this.build(`Window(${describe(this.assigner)}, reduce)`, agg, (_k, _w, r) => r);
  }

  aggregate<ACC, R, OUT = R>(fn: AggregateFunction<T, ACC, R>, windowFn?: (key: K, window: TimeWindow, result: R) => OUT): SingleOutputStreamOperator<OUT> {
    const result: WindowResultFn<K, R, OUT> = windowFn ?? ((_k, _w, r) => r as unknown as OUT);
    return this.build(`Window(${describe(this.assigner)}, aggregate)`, fn, result);
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

function describe(a: WindowAssigner): string {
  return `TumblingEventTimeWindows(${a.size}${a.offset ? `, ${a.offset}` : ""})`;
}
