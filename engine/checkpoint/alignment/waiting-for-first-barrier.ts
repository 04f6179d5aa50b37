import { mayBeUnaligned, type AlignmentController, AlignmentEvent, AlignmentState } from "./types.ts";
import { waiting, withChannel } from "./types.ts";
import { startUnaligned } from "./collecting-unaligned.ts";
import { onAligned } from "./collecting-aligned.ts";
import { onAtLeastOnce } from "./collecting-at-least-once.ts";

type Waiting = AlignmentState & { kind: "waiting-for-first-barrier" };

/** Every channel but `channel` has ended. */
function onlyLive(ended: readonly boolean[], channel: number): boolean {
  for (let i = 0; i < ended.length; i++) if (i !== channel && !ended[i]) return false;
  return true;
}

/** No checkpoint in progress: the first barrier of a newer checkpoint starts one. */
export function onWaiting(s: Waiting, e: AlignmentEvent, ctl: AlignmentController): AlignmentState {
  switch (e.kind) {
    case "barrier": {
      if (e.checkpointId <= s.lastHandled) return s; // stale: completed or aborted here already
      const cfg = ctl.config;
      const unaligned = cfg.exactlyOnce && cfg.unaligned && mayBeUnaligned(e.options);
      if (cfg.exactlyOnce && !unaligned) {
        // The only live channel (a task with one input): aligned at once, so no collecting state is built.
        if (onlyLive(s.ended, e.channel)) {
          ctl.snapshot(e.checkpointId, e.options, 0, false);
          return waiting(e.checkpointId, s.ended);
        }
        // The common case otherwise builds its state directly: one object, no spread.
        return onAligned({ kind: "collecting-aligned", lastHandled: s.lastHandled, ended: s.ended, checkpointId: e.checkpointId, options: e.options, startedAt: e.now, seen: s.ended.map(() => false) }, e, ctl);
      }
      const base = { lastHandled: s.lastHandled, ended: s.ended, checkpointId: e.checkpointId, options: e.options, startedAt: e.now, seen: s.ended.map(() => false) };
      if (!cfg.exactlyOnce) return onAtLeastOnce({ ...base, kind: "collecting-at-least-once" }, e, ctl);
      if (cfg.alignedTimeout <= 0) return startUnaligned({ ...base, seen: withChannel(base.seen, e.channel) }, e.channel, e.now, ctl);
      ctl.armTimeout(e.checkpointId, e.now + cfg.alignedTimeout);
      return onAligned({ ...base, kind: "collecting-aligned" }, e, ctl);
    }
    case "cancel":
      return e.checkpointId > s.lastHandled ? waiting(e.checkpointId, s.ended) : s;
    case "end-of-partition":
      return waiting(s.lastHandled, withChannel(s.ended, e.channel));
    case "alignment-timeout":
      return s; // of a checkpoint already done
  }
}
