import { describe, expect, it } from "vitest";
import { EndOfInput } from "./end-of-input.ts";

describe("end of input with checkpointing (FLIP-147)", () => {
  it("a source waits for the final checkpoint it snapshotted, and finishes on its completion", () => {
    const e = new EndOfInput(true, true);
    expect(e.inputEnded()).toBe(false);
    e.snapshotTaken(7, true);
    expect(e.checkpointCompleted(6)).toBe(false);
    expect(e.checkpointCompleted(7)).toBe(true);
    expect(e.current).toBe("may-finish");
  });

  it("a second final checkpoint snapshotted before the first one's completion notice does not move the bar", () => {
    // Checkpoints every 50 ms, no pause: final 4266 completes and 4267 is triggered at once; a task
    // snapshots 4267 before the notice of 4266 reaches it. Tasks that got the notice first have
    // finished and never acknowledge 4267, so waiting for 4267 waits for ever (it expires).
    const e = new EndOfInput(true, true);
    e.inputEnded();
    e.snapshotTaken(4266, true);
    e.snapshotTaken(4267, true);
    expect(e.checkpointCompleted(4266)).toBe(true);
  });

  it("a final checkpoint that fails is made good by any later one that completes", () => {
    const e = new EndOfInput(true, true);
    e.inputEnded();
    e.snapshotTaken(3, true);
    e.snapshotTaken(4, true);
    expect(e.checkpointCompleted(2)).toBe(false);
    expect(e.checkpointCompleted(4)).toBe(true);
  });

  it("without checkpointing a task finishes when its input ends", () => {
    expect(new EndOfInput(false, true).inputEnded()).toBe(true);
  });
});
