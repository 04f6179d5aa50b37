import type { AlignmentController, AlignmentEvent, AlignmentState, Collecting } from "./types.ts";
import { allLiveSeen, waiting, withChannel } from "./types.ts";

type Unaligned = Collecting & { kind: "collecting-unaligned" };

/**
 * Unaligned (FLIP-76): the snapshot was taken when the first barrier arrived (or when the
 * aligned-checkpoint timeout passed); every channel still before its barrier is recorded until
 * the barrier comes, and those records are the checkpoint's channel state. Nothing is blocked.
 */
export function onUnaligned(s: Unaligned, e: AlignmentEvent, ctl: AlignmentController): AlignmentState {
  switch (e.kind) {
    case "barrier": {
      if (e.checkpointId !== s.checkpointId || s.seen[e.channel]) return s; // older: stale; newer: handler.ts
      ctl.inFlightDone(e.channel);
      return completeIfAll({ ...s, seen: withChannel(s.seen, e.channel) }, ctl);
    }
    case "end-of-partition":
      // Everything the ended channel sent before its end was recorded: nothing more will come.
      if (!s.seen[e.channel]) ctl.inFlightDone(e.channel);
      return completeIfAll({ ...s, ended: withChannel(s.ended, e.channel) }, ctl);
    case "cancel":
      if (e.checkpointId < s.checkpointId) return s;
      ctl.abandon(s.checkpointId);
      return waiting(e.checkpointId, s.ended);
    case "alignment-timeout":
      return s;
  }
}

/** The first barrier, unaligned from the start: snapshot now, record every other live channel. */
export function startUnaligned(s: Omit<Collecting, "seen"> & { seen: readonly boolean[] }, channel: number, now: number, ctl: AlignmentController): AlignmentState {
  ctl.snapshot(s.checkpointId, s.options, 0, true);
  for (let c = 0; c < s.seen.length; c++) if (!s.seen[c] && !s.ended[c]) ctl.recordInFlight(c);
  ctl.recordInFlight(channel);
  ctl.inFlightDone(channel);
  return completeIfAll({ ...s, kind: "collecting-unaligned", lastHandled: s.checkpointId }, ctl);
}

/** The aligned-checkpoint timeout passed: snapshot now; blocked channels are past their barrier, the others are recorded. */
export function switchToUnaligned(s: Collecting, now: number, ctl: AlignmentController): AlignmentState {
  ctl.unblockAll();
  ctl.snapshot(s.checkpointId, s.options, now - s.startedAt, true);
  for (let c = 0; c < s.seen.length; c++) if (!s.seen[c] && !s.ended[c]) ctl.recordInFlight(c);
  return completeIfAll({ ...s, kind: "collecting-unaligned", lastHandled: s.checkpointId }, ctl);
}

function completeIfAll(s: Unaligned, ctl: AlignmentController): AlignmentState {
  if (!allLiveSeen(s.seen, s.ended)) return s;
  ctl.channelStateComplete(s.checkpointId);
  return waiting(s.checkpointId, s.ended);
}
