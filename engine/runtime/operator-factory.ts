import type { Transformation } from "../api/transformation.ts";
import { unsupportedAssigner } from "../api/windows.ts";
import { FilterOperator, FlatMapOperator, MapOperator } from "./basic-operators.ts";
import { FunctionSink, SinkFunctionOperator } from "./function-sink-operator.ts";
import type { StreamOperator } from "./operator.ts";
import { KeyedProcessOperator, ProcessOperator } from "./process-operator.ts";
import { asWindowProcess, ProcessWindowOperator, resultAsWindowProcess } from "./process-window-operator.ts";
import { instantiate } from "./function-context.ts";
import { SinkOperator } from "./sink-operator.ts";
import { WindowOperator } from "./window-operator.ts";

/** One fresh operator instance per subtask and attempt, from its plan node; user functions are copied per instance (instantiate). */
export function createOperator(t: Transformation, attempt: number): StreamOperator {
  switch (t.kind) {
    case "map":
      return new MapOperator(t.fn);
    case "filter":
      return new FilterOperator(t.fn);
    case "flatMap":
      return new FlatMapOperator(t.fn);
    case "window": {
      const bad = unsupportedAssigner(t.assigner);
      if (bad) throw new Error(`${t.name}: ${bad}`);
      // Tumbling windows with an incremental aggregate keep their own operator: the seed job's hot path.
      if (t.assigner.kind === "tumbling-event-time") {
        return new WindowOperator({
          keySelector: t.input.keySelector,
          size: t.assigner.size,
          offset: t.assigner.offset,
          agg: t.agg,
          result: t.result,
          lateTag: t.lateTag,
          allowedLateness: t.allowedLateness,
        });
      }
      return new ProcessWindowOperator({ keySelector: t.input.keySelector, assigner: t.assigner, agg: t.agg, fn: resultAsWindowProcess(t.result), lateTag: t.lateTag, attempt });
    }
    case "processWindow": {
      const bad = unsupportedAssigner(t.assigner);
      if (bad) throw new Error(`${t.name}: ${bad}`);
      return new ProcessWindowOperator({ keySelector: t.input.keySelector, assigner: t.assigner, agg: t.agg, fn: asWindowProcess(instantiate(t.fn)), lateTag: t.lateTag, attempt });
    }
    case "process":
      return new ProcessOperator(instantiate(t.fn), attempt);
    case "keyedProcess":
      return new KeyedProcessOperator(t.input.keySelector, instantiate(t.fn), attempt);
    case "sink":
      return t.sink instanceof FunctionSink ? new SinkFunctionOperator(instantiate(t.sink.fn), attempt) : new SinkOperator(t.sink, attempt);
    case "source":
    case "keyBy":
    case "sideOutput":
    case "rebalance":
    case "union":
      throw new Error(`internal: ${t.kind} is not an operator`);
  }
}
