/**
 * flinch's engine API, as a Flink user writes a job: the environment, streams, windows, time,
 * watermarks, checkpoint and restart configuration, state backends, and the connectors.
 * (Runtime internals — tasks, channels, the coordinator — are not part of the public API.)
 */
export * from "./api/environment.ts";
export * from "./api/datastream.ts";
export * from "./api/windows.ts";
export * from "./api/functions.ts";
export { KeyEncodingError } from "./state/key-encoding.ts";
export * from "./api/time.ts";
export * from "./api/watermark-strategy.ts";
export * from "./api/checkpoint-config.ts";
export * from "./api/restart-strategies.ts";
export * from "./api/config.ts";
export * from "./api/source.ts";
export * from "./api/sink.ts";
export * from "./api/world.ts";
export * from "./api/logger.ts";
export * from "./api/transformation.ts";
export * from "./state/backends.ts";
export * from "./state/fs.ts";
export * from "./checkpoint/faults.ts";
export { JobGraphValidationError } from "./runtime/validate.ts";
export * from "./decimal.ts";
export * from "./connectors/index.ts";
