import type { AlignmentController, AlignmentEvent, AlignmentState, Collecting } from "./types.ts";
import { allLiveSeen, waiting, withChannel } from "./types.ts";

type AtLeastOnce = Collecting & { kind: "collecting-at-least-once" };

/**
 * AT_LEAST_ONCE: nothing is blocked; the snapshot happens when the last barrier arrives, so
 * records that overtook it on faster channels are already in the state (replayed again after a
 * restore: at least once).
 */
export function onAtLeastOnce(s: AtLeastOnce, e: AlignmentEvent, ctl: AlignmentController): AlignmentState {
  switch (e.kind) {
    case "barrier":
      if (e.checkpointId !== s.checkpointId) return s; // older: stale; newer: handler.ts
      return completeIfAll({ ...s, seen: withChannel(s.seen, e.channel) }, e.now, ctl);
    case "end-of-partition":
      return completeIfAll({ ...s, ended: withChannel(s.ended, e.channel) }, e.now, ctl);
    case "cancel":
      if (e.checkpointId < s.checkpointId) return s;
      ctl.abandon(s.checkpointId);
      return waiting(e.checkpointId, s.ended);
    case "alignment-timeout":
      return s;
  }
}

function completeIfAll(s: AtLeastOnce, now: number, ctl: AlignmentController): AlignmentState {
  if (!allLiveSeen(s.seen, s.ended)) return s;
  ctl.snapshot(s.checkpointId, s.options, now - s.startedAt, false);
  return waiting(s.checkpointId, s.ended);
}
