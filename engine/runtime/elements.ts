import type { CheckpointOptions } from "../checkpoint/gateway.ts";

/**
 * What flows through a channel. Records travel in batches (one element carries many records),
 * so the cost of a channel hop, a scheduler event and a trace line is paid per batch.
 */
export type StreamElement =
  | { readonly kind: "records"; readonly values: unknown[]; readonly timestamps: number[] }
  | { readonly kind: "watermark"; readonly timestamp: number }
  | { readonly kind: "barrier"; readonly checkpointId: number; readonly options: CheckpointOptions }
  | { readonly kind: "end" };

/** Flink's Long.MIN_VALUE / Long.MAX_VALUE watermarks, in ms. */
export const MIN_WATERMARK = -Infinity;
export const MAX_WATERMARK = Infinity;

export const END: StreamElement = { kind: "end" };
