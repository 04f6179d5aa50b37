import type { Transformation } from "../api/transformation.ts";
import { FilterOperator, FlatMapOperator, MapOperator } from "./basic-operators.ts";
import type { StreamOperator } from "./operator.ts";
import { SinkOperator } from "./sink-operator.ts";
import { WindowOperator } from "./window-operator.ts";

/** One fresh operator instance per subtask and attempt, from its plan node. */
export function createOperator(t: Transformation, attempt: number): StreamOperator {
  switch (t.kind) {
    case "map":
      return new MapOperator(t.fn);
    case "filter":
      return new FilterOperator(t.fn);
    case "flatMap":
      return new FlatMapOperator(t.fn);
    case "window":
      return new WindowOperator({
        keySelector: t.input.keySelector,
        size: t.assigner.size,
        offset: t.assigner.offset,
        agg: t.agg,
        result: t.result,
        lateTag: t.lateTag,
        allowedLateness: t.allowedLateness,
      });
    case "sink":
      return new SinkOperator(t.sink, attempt);
    case "source":
    case "keyBy":
    case "sideOutput":
      throw new Error(`internal: ${t.kind} is not an operator`);
  }
}
