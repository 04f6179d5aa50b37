import type { AlignmentController, AlignmentEvent, AlignmentState, Collecting } from "./types.ts";
import { allLiveSeen, allLiveSeenWith, mayBeUnaligned, waiting, withChannel } from "./types.ts";
import { switchToUnaligned } from "./collecting-unaligned.ts";

type Aligned = Collecting & { kind: "collecting-aligned" };

/**
 * EXACTLY_ONCE aligned: a channel that delivered barrier n is blocked until barrier n came on
 * every live channel; then the task snapshots and unblocks. With unaligned enabled and the
 * aligned-checkpoint timeout passed, the alignment turns unaligned.
 */
export function onAligned(s: Aligned, e: AlignmentEvent, ctl: AlignmentController): AlignmentState {
  switch (e.kind) {
    case "barrier": {
      if (e.checkpointId !== s.checkpointId || s.seen[e.channel]) return s; // older: stale; newer: handler.ts
      ctl.block(e.channel);
      // The last barrier needed (always so with one input): snapshot without building the state in between.
      if (allLiveSeenWith(s.seen, s.ended, e.channel)) return snapshotAligned(s, e.now, ctl);
      return { ...s, seen: withChannel(s.seen, e.channel) };
    }
    case "end-of-partition":
      return completeIfAligned({ ...s, ended: withChannel(s.ended, e.channel) }, e.now, ctl);
    case "cancel":
      if (e.checkpointId < s.checkpointId) return s;
      ctl.unblockAll();
      ctl.abandon(s.checkpointId);
      return waiting(e.checkpointId, s.ended);
    case "alignment-timeout":
      return e.checkpointId === s.checkpointId && ctl.config.unaligned && mayBeUnaligned(s.options) ? switchToUnaligned(s, e.now, ctl) : s;
  }
}

function completeIfAligned(s: Aligned, now: number, ctl: AlignmentController): AlignmentState {
  return allLiveSeen(s.seen, s.ended) ? snapshotAligned(s, now, ctl) : s;
}

/** Every live channel delivered the barrier: unblock, snapshot, wait for the next checkpoint. */
function snapshotAligned(s: Aligned, now: number, ctl: AlignmentController): AlignmentState {
  ctl.unblockAll();
  ctl.snapshot(s.checkpointId, s.options, now - s.startedAt, false);
  return waiting(s.checkpointId, s.ended);
}
