import type { Rng } from "../../engine/kernel/rng.ts";

/**
 * Feed faults ("toxics") as plain data, and the one interpreter that turns them into frames.
 *
 * What they can do, and when:
 * - per live frame, each with its own probability: `duplicate` (the frame is sent twice),
 *   `reorder` (the frame is held back and sent after 1..window later frames), `drop` (never
 *   sent live: an id gap), `malformed` (a garbage frame is sent in its place: also a gap),
 *   `disconnect` (the connection drops with 1006 before the frame), `stall` (silence, pings
 *   included, for durationMs before the frame), `server-restart` (every connection drops and
 *   the exchange refuses connections and REST for downMs);
 * - `latency`: every frame is late by meanMs plus uniform jitter in [0, jitterMs), one draw per
 *   tape position (all the frames decided for it share it); order on one connection is kept,
 *   as TCP keeps it: a frame never leaves before the one decided ahead of it. The simulated
 *   feed adds it to the publish time; the server (session.ts) holds every outgoing text frame
 *   in a delay line, at any pace, replies included;
 * - per REST request: `rest-429` (Retry-After retryAfterMs), `rest-5xx`, `rest-timeout`
 *   (no answer within ms).
 * Trades are never altered: every trade stays reachable through REST, so a correct source
 * can always recover the whole tape. The same plan drives the real server (sim/binance/server)
 * and the in-process simulated feed (sim-feed.ts); the decisions come from a seeded Rng.
 */
export type FeedToxic =
  | { readonly kind: "duplicate"; readonly probability: number }
  | { readonly kind: "reorder"; readonly probability: number; readonly window: number }
  | { readonly kind: "drop"; readonly probability: number }
  | { readonly kind: "malformed"; readonly probability: number }
  | { readonly kind: "disconnect"; readonly probability: number }
  | { readonly kind: "stall"; readonly probability: number; readonly durationMs: number }
  | { readonly kind: "server-restart"; readonly probability: number; readonly downMs: number }
  | { readonly kind: "latency"; readonly meanMs: number; readonly jitterMs: number }
  | { readonly kind: "rest-429"; readonly probability: number; readonly retryAfterMs: number }
  | { readonly kind: "rest-5xx"; readonly probability: number }
  | { readonly kind: "rest-timeout"; readonly probability: number; readonly ms: number };

export type FeedToxicKind = FeedToxic["kind"];

export const FEED_TOXIC_KINDS: readonly FeedToxicKind[] = [
  "duplicate", "reorder", "drop", "malformed", "disconnect", "stall", "server-restart", "latency", "rest-429", "rest-5xx", "rest-timeout",
];

export interface FeedFaultPlan {
  readonly toxics: readonly FeedToxic[];
}

export const NO_FAULTS: FeedFaultPlan = { toxics: [] };

export interface FaultPlanConstraints {
  /** Kinds that may be drawn (default: all). */
  kinds?: readonly FeedToxicKind[];
  /** Upper bound of a per-frame probability for the frequent toxics (default 0.05). */
  maxFrameProbability?: number;
  /** Upper bound of the per-frame probability of connection-level faults (default 0.005). */
  maxConnectionProbability?: number;
}

/** Draws a plan from the seed: each allowed kind is present with probability 1/2, its parameters drawn in a fixed order. */
export function drawFaultPlan(rng: Rng, c: FaultPlanConstraints = {}): FeedFaultPlan {
  const kinds = new Set(c.kinds ?? FEED_TOXIC_KINDS);
  for (const k of kinds) if (!FEED_TOXIC_KINDS.includes(k)) throw new Error(`drawFaultPlan: unknown toxic kind ${JSON.stringify(k)}`);
  const pf = c.maxFrameProbability ?? 0.05;
  const pc = c.maxConnectionProbability ?? 0.005;
  const toxics: FeedToxic[] = [];
  for (const kind of FEED_TOXIC_KINDS) {
    // Draw for every kind, allowed or not, so narrowing the kinds does not shift the others.
    const on = rng.chance(0.5);
    const p = rng.next();
    const a = rng.next();
    if (!on || !kinds.has(kind)) continue;
    switch (kind) {
      case "duplicate": case "drop": case "malformed": case "rest-5xx":
        toxics.push({ kind, probability: p * pf }); break;
      case "reorder": toxics.push({ kind, probability: p * pf, window: 1 + Math.floor(a * 8) }); break;
      case "disconnect": toxics.push({ kind, probability: p * pc }); break;
      case "stall": toxics.push({ kind, probability: p * pc, durationMs: 100 + Math.floor(a * 5_000) }); break;
      case "server-restart": toxics.push({ kind, probability: p * pc / 2, downMs: 100 + Math.floor(a * 3_000) }); break;
      case "latency": toxics.push({ kind, meanMs: Math.floor(p * 200), jitterMs: Math.floor(a * 100) }); break;
      case "rest-429": toxics.push({ kind, probability: p * 0.3, retryAfterMs: 1_000 * (1 + Math.floor(a * 3)) }); break;
      case "rest-timeout": toxics.push({ kind, probability: p * 0.2, ms: 1_000 + Math.floor(a * 9_000) }); break;
    }
  }
  return { toxics };
}

/** What the exchange does next on one connection. `index` is a position in the symbol's tape. */
export type FrameAction =
  | { readonly kind: "trade"; readonly index: number }
  | { readonly kind: "malformed"; readonly text: string }
  | { readonly kind: "disconnect" }
  | { readonly kind: "stall"; readonly ms: number }
  | { readonly kind: "server-restart"; readonly downMs: number };

function find<K extends FeedToxicKind>(plan: FeedFaultPlan, kind: K): Extract<FeedToxic, { kind: K }> | undefined {
  return plan.toxics.find((t) => t.kind === kind) as Extract<FeedToxic, { kind: K }> | undefined;
}

const MALFORMED = ['{"e":"trade","E":', "\u0000\u0001garbage", '{"stream":"x@trade","data":{"e":"trade","t":"NaN"}}', "[1,2,"];

/**
 * The interpreter for one live connection: offer each tape index in turn, get the frames to
 * send. Held (reordered) frames come out after later ones; `flush` releases them at the end.
 */
export class ToxicStream {
  private readonly dup; private readonly reo; private readonly drop; private readonly bad;
  private readonly disc; private readonly stall; private readonly restart;
  private held: { index: number; after: number }[] = [];

  constructor(plan: FeedFaultPlan, private readonly rng: Rng) {
    this.dup = find(plan, "duplicate"); this.reo = find(plan, "reorder"); this.drop = find(plan, "drop");
    this.bad = find(plan, "malformed"); this.disc = find(plan, "disconnect"); this.stall = find(plan, "stall");
    this.restart = find(plan, "server-restart");
  }

  /** Frames to send for tape position `index` (possibly none, possibly a connection fault first). */
  next(index: number): FrameAction[] {
    const out: FrameAction[] = [];
    // One draw per toxic per frame, in a fixed order, whether or not the toxic is in the plan.
    const r = this.rng;
    const dRestart = r.next(), dDisc = r.next(), dStall = r.next(), dDrop = r.next(), dBad = r.next(), dReo = r.next(), dDup = r.next(), dAfter = r.next(), dBadText = r.next();
    if (this.restart && dRestart < this.restart.probability) out.push({ kind: "server-restart", downMs: this.restart.downMs });
    else if (this.disc && dDisc < this.disc.probability) out.push({ kind: "disconnect" });
    else if (this.stall && dStall < this.stall.probability) out.push({ kind: "stall", ms: this.stall.durationMs });
    if (this.drop && dDrop < this.drop.probability) {
      // dropped: nothing for this trade
    } else if (this.bad && dBad < this.bad.probability) {
      out.push({ kind: "malformed", text: MALFORMED[Math.floor(dBadText * MALFORMED.length)] });
    } else if (this.reo && dReo < this.reo.probability) {
      this.held.push({ index, after: 1 + Math.floor(dAfter * this.reo.window) });
    } else {
      out.push({ kind: "trade", index });
      if (this.dup && dDup < this.dup.probability) out.push({ kind: "trade", index });
    }
    if (this.held.length) {
      const keep: { index: number; after: number }[] = [];
      for (const h of this.held) {
        if (h.index === index) keep.push(h);
        else if (--h.after <= 0) out.push({ kind: "trade", index: h.index });
        else keep.push(h);
      }
      this.held = keep;
    }
    return out;
  }

  /** Releases every held frame (the tape ran out). */
  flush(): FrameAction[] {
    const out = this.held.map((h): FrameAction => ({ kind: "trade", index: h.index }));
    this.held = [];
    return out;
  }
}

/** Whether the plan delays frames (a latency toxic with a mean or jitter above 0). */
export function hasLatency(plan: FeedFaultPlan): boolean {
  const l = find(plan, "latency");
  return l !== undefined && (l.meanMs > 0 || l.jitterMs > 0);
}

/** Per-frame delay from the latency toxic (0 without one). */
export function frameLatency(plan: FeedFaultPlan, rng: Rng): number {
  const l = find(plan, "latency");
  const j = rng.next();
  return l ? l.meanMs + Math.floor(j * l.jitterMs) : 0;
}

export type RestDecision =
  | { readonly kind: "ok" }
  | { readonly kind: "429"; readonly retryAfterMs: number }
  | { readonly kind: "5xx"; readonly status: number }
  | { readonly kind: "timeout"; readonly ms: number };

/** What happens to one REST request. */
export function restDecision(plan: FeedFaultPlan, rng: Rng): RestDecision {
  const a = rng.next(), b = rng.next(), c = rng.next(), s = rng.next();
  const t429 = find(plan, "rest-429"), t5xx = find(plan, "rest-5xx"), tOut = find(plan, "rest-timeout");
  if (t429 && a < t429.probability) return { kind: "429", retryAfterMs: t429.retryAfterMs };
  if (t5xx && b < t5xx.probability) return { kind: "5xx", status: s < 0.5 ? 500 : 503 };
  if (tOut && c < tOut.probability) return { kind: "timeout", ms: tOut.ms };
  return { kind: "ok" };
}
