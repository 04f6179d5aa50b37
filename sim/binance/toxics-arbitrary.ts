import fc from "fast-check";
import { FEED_TOXIC_KINDS, type FeedFaultPlan, type FeedToxic, type FeedToxicKind } from "./toxics.ts";

/** fast-check arbitrary of feed fault plans: any subset of toxic kinds, each with shrinkable parameters. */
export interface FeedFaultPlanConstraints {
  kinds?: readonly FeedToxicKind[];
  /** Upper bound of per-frame probabilities (default 0.3). */
  maxFrameProbability?: number;
  /** Upper bound of per-frame connection-fault probabilities (default 0.01). */
  maxConnectionProbability?: number;
}

export function feedFaultPlan(c: FeedFaultPlanConstraints = {}): fc.Arbitrary<FeedFaultPlan> {
  const kinds = c.kinds ?? FEED_TOXIC_KINDS;
  for (const k of kinds) if (!FEED_TOXIC_KINDS.includes(k)) throw new Error(`feedFaultPlan: unknown toxic kind ${JSON.stringify(k)}`);
  const pf = c.maxFrameProbability ?? 0.3;
  const pc = c.maxConnectionProbability ?? 0.01;
  const p = (max: number) => fc.double({ min: 0, max, noNaN: true });
  const one = (kind: FeedToxicKind): fc.Arbitrary<FeedToxic> => {
    switch (kind) {
      case "duplicate": case "drop": case "malformed": case "rest-5xx": return p(pf).map((probability) => ({ kind, probability }));
      case "reorder": return fc.record({ probability: p(pf), window: fc.integer({ min: 1, max: 10 }) }).map((r) => ({ kind, ...r }));
      case "disconnect": return p(pc).map((probability) => ({ kind, probability }));
      case "stall": return fc.record({ probability: p(pc), durationMs: fc.integer({ min: 1, max: 120_000 }) }).map((r) => ({ kind, ...r }));
      case "server-restart": return fc.record({ probability: p(pc), downMs: fc.integer({ min: 1, max: 10_000 }) }).map((r) => ({ kind, ...r }));
      case "latency": return fc.record({ meanMs: fc.integer({ min: 0, max: 2_000 }), jitterMs: fc.integer({ min: 0, max: 2_000 }) }).map((r) => ({ kind, ...r }));
      case "rest-429": return fc.record({ probability: p(0.5), retryAfterMs: fc.integer({ min: 0, max: 60_000 }) }).map((r) => ({ kind, ...r }));
      case "rest-timeout": return fc.record({ probability: p(0.5), ms: fc.integer({ min: 1, max: 30_000 }) }).map((r) => ({ kind, ...r }));
    }
  };
  return fc.subarray([...kinds]).chain((ks): fc.Arbitrary<FeedToxic[]> => (ks.length === 0 ? fc.constant([]) : fc.tuple(...ks.map(one)))).map((toxics): FeedFaultPlan => ({ toxics }));
}
