import type { AlignmentController, AlignmentEvent, AlignmentState } from "./types.ts";
import { waiting } from "./types.ts";
import { onWaiting } from "./waiting-for-first-barrier.ts";
import { onAligned } from "./collecting-aligned.ts";
import { onUnaligned } from "./collecting-unaligned.ts";
import { onAtLeastOnce } from "./collecting-at-least-once.ts";

export type { AlignmentConfig, AlignmentController, AlignmentEvent, AlignmentState } from "./types.ts";

export function initialAlignment(channels: number): AlignmentState {
  return waiting(0, new Array<boolean>(channels).fill(false));
}

/**
 * One transition of the alignment state machine. One rule holds in every collecting state, so it
 * lives here: a newer checkpoint's barrier (the older one was aborted upstream) abandons the one in
 * progress, and starts its own as the first barrier would.
 */
export function alignmentStep(s: AlignmentState, e: AlignmentEvent, ctl: AlignmentController): AlignmentState {
  if (e.kind === "barrier" && s.kind !== "waiting-for-first-barrier" && e.checkpointId > s.checkpointId) {
    if (s.kind === "collecting-aligned") ctl.unblockAll();
    ctl.abandon(s.checkpointId);
    return onWaiting({ kind: "waiting-for-first-barrier", lastHandled: s.lastHandled, ended: s.ended }, e, ctl);
  }
  switch (s.kind) {
    case "waiting-for-first-barrier": return onWaiting(s, e, ctl);
    case "collecting-aligned": return onAligned(s, e, ctl);
    case "collecting-unaligned": return onUnaligned(s, e, ctl);
    case "collecting-at-least-once": return onAtLeastOnce(s, e, ctl);
  }
}
