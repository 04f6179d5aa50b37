import { AbstractStreamOperator } from "./operator.ts";

/** map / filter / flatMap, chained into their task like Flink's StreamMap, StreamFilter, StreamFlatMap. */
export class MapOperator<IN, OUT> extends AbstractStreamOperator<IN, OUT> {
  constructor(private readonly fn: (v: IN) => OUT) {
    super();
  }
  processElement(value: IN, ts: number): void {
    this.output.collect(this.fn(value), ts);
  }
}

export class FilterOperator<T> extends AbstractStreamOperator<T, T> {
  constructor(private readonly fn: (v: T) => boolean) {
    super();
  }
  processElement(value: T, ts: number): void {
    if (this.fn(value)) this.output.collect(value, ts);
  }
}

export interface Collector<T> {
  collect(value: T): void;
}

export class FlatMapOperator<IN, OUT> extends AbstractStreamOperator<IN, OUT> implements Collector<OUT> {
  private ts = 0;
  constructor(private readonly fn: (v: IN, out: Collector<OUT>) => void) {
    super();
  }
  processElement(value: IN, ts: number): void {
    this.ts = ts;
    this.fn(value, this);
  }
  collect(value: OUT): void {
    this.output.collect(value, this.ts);
  }
}
