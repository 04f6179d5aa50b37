import type { Tape } from "../tape.ts";

/** Shared by the ws and intercept tests (the job itself is scenarios/realtime-job.ts: sim/ does not import scenarios/). */
export const FAST_TIMING = { stallTimeoutMs: 1_000, gapWaitMs: 100, reconnectBaseMs: 20, reconnectMaxMs: 500, restRetryBaseMs: 20, restRetryMaxMs: 500 };

export function rangeOf(tape: Tape): Record<string, { firstId: number; lastId: number }> {
  const r: Record<string, { firstId: number; lastId: number }> = {};
  for (const s of tape.symbols) {
    const t = tape.bySymbol.get(s)!;
    r[s] = { firstId: t[0].id, lastId: t[t.length - 1].id };
  }
  return r;
}
