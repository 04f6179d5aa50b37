import type { KeyType } from "../state/keygroups.ts";
import type { AggregateFunction } from "../state/keyed-state.ts";
import type { WindowResultFn } from "../runtime/window-operator.ts";
import type { Sink } from "./sink.ts";
import type { Source } from "./source.ts";
import type { WatermarkStrategy } from "./watermark-strategy.ts";
import type { WindowAssigner } from "./windows.ts";

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
  | (Base & { readonly kind: "sideOutput"; readonly input: Transformation; readonly tag: string })
  | (Base & { readonly kind: "sink"; readonly input: Transformation; readonly sink: Sink<any> });


/** A transformation before the environment numbers it. */
export type NewTransformation = Transformation extends infer T ? (T extends any ? Omit<T, "id"> : never) : never;
