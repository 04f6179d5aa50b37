import type { KeyType } from "../state/keygroups.ts";
import type { AggregateFunction } from "../state/keyed-state.ts";
import type { WindowResultFn } from "../runtime/window-operator.ts";
import type { Sink } from "./sink.ts";
import type { Source } from "./source.ts";
import type { WatermarkStrategy } from "./watermark-strategy.ts";
import type { WindowAssigner } from "./windows.ts";
import type { KeyedProcessFunction, ProcessFunction } from "./functions.ts";
import type { AnyWindowFn } from "../runtime/process-window-operator.ts";

/**
 * The logical plan the DataStream API builds: plain nodes, turned into a job graph
 * (vertices, chains, edges) by engine/runtime/job-graph.ts.
 */
interface Base {
  readonly id: number;
  name: string;
  uid?: string;
  parallelism?: number;
}

export type Transformation =
  | (Base & { readonly kind: "source"; readonly source: Source<any>; readonly watermarks: WatermarkStrategy<any> })
  | (Base & { readonly kind: "map"; readonly input: Transformation; readonly fn: (v: any) => any })
  | (Base & { readonly kind: "filter"; readonly input: Transformation; readonly fn: (v: any) => boolean })
  | (Base & { readonly kind: "flatMap"; readonly input: Transformation; readonly fn: (v: any, out: { collect(v: any): void }) => void })
  | (Base & { readonly kind: "keyBy"; readonly input: Transformation; readonly keySelector: (v: any) => KeyType })
  | (Base & {
      readonly kind: "window";
      readonly input: Transformation & { kind: "keyBy" };
      readonly assigner: WindowAssigner;
      readonly agg: AggregateFunction<any, any, any>;
      readonly result: WindowResultFn<any, any, any>;
      allowedLateness: number;
      lateTag?: string;
    })
  | (Base & {
      readonly kind: "processWindow";
      readonly input: Transformation & { kind: "keyBy" };
      readonly assigner: WindowAssigner;
      /** "list": buffer every element (apply / process); else pre-aggregate with `agg` (reduce / aggregate with a window function). */
      readonly agg?: AggregateFunction<any, any, any>;
      readonly fn: AnyWindowFn<any, any, any>;
      allowedLateness: number;
      lateTag?: string;
    })
  | (Base & { readonly kind: "process"; readonly input: Transformation; readonly fn: ProcessFunction<any, any> })
  | (Base & { readonly kind: "keyedProcess"; readonly input: Transformation & { kind: "keyBy" }; readonly fn: KeyedProcessFunction<any, any, any> | ProcessFunction<any, any> })
  /** Virtual: the records of `input` spread round-robin over the consumer's subtasks. */
  | (Base & { readonly kind: "rebalance"; readonly input: Transformation })
  /** Virtual: the consumer reads every input (Flink's union: no operator, only edges). */
  | (Base & { readonly kind: "union"; readonly inputs: readonly Transformation[] })
  | (Base & { readonly kind: "sideOutput"; readonly input: Transformation; readonly tag: string })
  | (Base & { readonly kind: "sink"; readonly input: Transformation; readonly sink: Sink<any> });


/** Operators that run on a keyed stream and so get a keyed state backend. */
export function isKeyedOperator(t: Transformation): boolean {
  return t.kind === "window" || t.kind === "processWindow" || t.kind === "keyedProcess";
}

/** Plan nodes that are edges, not operators. */
export function isVirtual(t: Transformation): boolean {
  return t.kind === "keyBy" || t.kind === "sideOutput" || t.kind === "rebalance" || t.kind === "union";
}

/** The direct inputs of a node. */
export function inputsOf(t: Transformation): readonly Transformation[] {
  if (t.kind === "source") return [];
  if (t.kind === "union") return t.inputs;
  return [t.input];
}

/** Every source upstream of `t`. */
export function sourcesOf(t: Transformation): (Transformation & { kind: "source" })[] {
  if (t.kind === "source") return [t];
  const out: (Transformation & { kind: "source" })[] = [];
  for (const i of inputsOf(t)) for (const s of sourcesOf(i)) if (!out.includes(s)) out.push(s);
  return out;
}

/** A transformation before the environment numbers it. */
export type NewTransformation = Transformation extends infer T ? (T extends any ? Omit<T, "id"> : never) : never;
