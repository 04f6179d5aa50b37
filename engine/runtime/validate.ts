import type { CheckpointConfig } from "../api/checkpoint-config.ts";
import { CheckpointingMode } from "../api/checkpoint-config.ts";
import { sourcesOf, type Transformation } from "../api/transformation.ts";
import { unsupportedAssigner } from "../api/windows.ts";
import { FunctionSink } from "./function-sink-operator.ts";
import { FunctionSource } from "./function-source.ts";
import type { World } from "../api/world.ts";
import type { JobGraph } from "./job-graph.ts";

/**
 * Checks a job before it runs and says what is wrong in plain words: errors stop the job,
 * warnings are logged and kept in the result. These are the mistakes Flink users make that
 * Flink itself only reveals by a job that never outputs anything.
 */
export interface ValidationResult {
  readonly errors: string[];
  readonly warnings: string[];
}

export class JobGraphValidationError extends Error {
  override readonly name = "JobGraphValidationError";
  readonly exitCode = 2;
  constructor(readonly errors: string[]) {
    super(`the job cannot run:\n  - ${errors.join("\n  - ")}`);
  }
}

const MIN_CHECKPOINT_MS = 10;

export function validateJob(ts: readonly Transformation[], graph: JobGraph, cp: CheckpointConfig, world: World, maxParallelism: number): ValidationResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const sources = ts.filter((t): t is Transformation & { kind: "source" } => t.kind === "source");
  const sinks = ts.filter((t): t is Transformation & { kind: "sink" } => t.kind === "sink");
  if (sources.length === 0) errors.push("No sources defined: add one with env.fromSource(...).");
  if (sinks.length === 0) errors.push("No operators defined in streaming topology. Cannot execute. (Add a sink: sinkTo(...) or print().)");

  for (const v of graph.vertices) {
    if (v.parallelism > maxParallelism) errors.push(`"${v.name}": parallelism ${v.parallelism} exceeds max parallelism ${maxParallelism}.`);
  }

  if (cp.isCheckpointingEnabled()) {
    if (cp.interval < MIN_CHECKPOINT_MS) errors.push(`Checkpoint interval cannot be less than ${MIN_CHECKPOINT_MS} milliseconds (got ${cp.interval}).`);
    if (cp.checkpointTimeout < MIN_CHECKPOINT_MS) errors.push(`Checkpoint timeout must be at least ${MIN_CHECKPOINT_MS} ms (got ${cp.checkpointTimeout}).`);
    if (cp.minPauseBetweenCheckpoints < 0) errors.push(`Minimum pause between checkpoints must be >= 0 (got ${cp.minPauseBetweenCheckpoints}).`);
    if (!Number.isInteger(cp.maxConcurrentCheckpoints) || cp.maxConcurrentCheckpoints < 1) errors.push(`Max concurrent checkpoints must be >= 1 (got ${cp.maxConcurrentCheckpoints}).`);
    if (cp.tolerableCheckpointFailureNumber < 0) errors.push(`Tolerable checkpoint failure number must be >= 0 (got ${cp.tolerableCheckpointFailureNumber}).`);
    if (cp.numRetained < 1) errors.push(`Retained checkpoints must be >= 1 (got ${cp.numRetained}).`);
  }

  const bounded = (t: Transformation): boolean => sourcesOf(t).every((x) => x.source.isBounded(world));

  for (const s of sources) {
    for (const p of s.source.validate?.(world) ?? []) errors.push(`"${s.name}": ${p}`);
    if (s.source instanceof FunctionSource && !s.source.parallel && (s.parallelism ?? 1) !== 1) {
      errors.push(`"${s.name}": the parallelism of a non-parallel SourceFunction must be 1 (got ${s.parallelism}); extend RichParallelSourceFunction to run it in parallel.`);
    }
  }

  for (const t of ts) {
    if (t.kind === "window" || t.kind === "processWindow") {
      const bad = unsupportedAssigner(t.assigner);
      if (bad) errors.push(`"${t.name}": ${bad}.`);
    }
    if (t.kind === "window" || t.kind === "processWindow") {
      // Source functions emit their own watermarks (SourceContext.emitWatermark).
      const src = sourcesOf(t).find((x) => x.watermarks.kind === "none" && !(x.source instanceof FunctionSource));
      if (src) {
        warnings.push(
          bounded(t)
            ? `"${t.name}" is an event-time window fed by "${src.name}" with WatermarkStrategy.noWatermarks(): it fires only at the end of input, all windows at once.`
            : `"${t.name}" is an event-time window fed by "${src.name}" with WatermarkStrategy.noWatermarks() on an unbounded source: it never fires and no result is ever emitted. Use forBoundedOutOfOrderness(...).`,
        );
      }
      if (t.allowedLateness > 0) errors.push(`"${t.name}": allowedLateness > 0 (late firings) is not supported yet; late records go to the late side output and are counted.`);
      if (t.lateTag !== undefined && !ts.some((x) => x.kind === "sideOutput" && x.tag === t.lateTag && x.input === t)) {
        warnings.push(`"${t.name}": sideOutputLateData("${t.lateTag}") is set but nothing reads getSideOutput("${t.lateTag}"); late records are only counted.`);
      }
    }
    if (t.kind === "sideOutput") {
      const producer = t.input;
      const emitsAnyTag = producer.kind === "process" || producer.kind === "keyedProcess" || producer.kind === "processWindow";
      if (!emitsAnyTag && !(producer.kind === "window" && producer.lateTag === t.tag)) warnings.push(`getSideOutput("${t.tag}") on "${producer.name}": that operator never emits to "${t.tag}", so this stream is empty.`);
    }
    if (t.kind === "sink") {
      // A SinkFunction with checkpointed state rolls that state back with the job: exactly-once for its own state.
      const checkpointedFn = t.sink instanceof FunctionSink && t.sink.checkpointed;
      if (!t.sink.transactional && !checkpointedFn && cp.isCheckpointingEnabled() && cp.mode === CheckpointingMode.EXACTLY_ONCE) {
        warnings.push(`"${t.name}" is not transactional: with EXACTLY_ONCE checkpointing, records written before a failure are written again after the restore (duplicates). Use a two-phase-commit sink such as TransactionalFileSink.`);
      }
      if (t.sink.transactional && !cp.isCheckpointingEnabled() && !bounded(t)) {
        warnings.push(`"${t.name}" commits on checkpoints, and checkpointing is disabled on an unbounded job: its output never becomes visible. Call enableCheckpointing(...).`);
      }
    }
  }
  if (cp.isCheckpointingEnabled() && cp.mode === CheckpointingMode.AT_LEAST_ONCE) {
    warnings.push("AT_LEAST_ONCE checkpointing does not align barriers: after a restore, records may be counted twice in keyed state.");
  }
  return { errors, warnings };
}
