import { expect, it } from "vitest";
import { readCommittedLines } from "../engine/connectors/sinks/transactional-file-sink.ts";
import { generateTape } from "../sim/binance/generator.ts";
import { SimulatedTradeFeed } from "../sim/binance/sim-feed.ts";
import { MemFs } from "../sim/faults/mem-fs.ts";
import { Nemesis } from "../sim/faults/nemesis.ts";
import { parseCommittedLine } from "./committed.ts";
import { windowLines, windowOracle } from "./oracle.ts";
import { seedConfigJob } from "./seed-config.ts";

it("the DESIGN.md job, ported line for line, commits the oracle's windows — also after crashes", async () => {
  const tape = generateTape({ seed: "seed-config", symbols: ["BTCUSDT"], durationMs: 10 * 60_000, ratePerSec: 30 });
  const feed = new SimulatedTradeFeed(tape);
  for (const faults of [[], [{ kind: "crash" as const, point: "checkpoint.complete" as const, occurrence: 4 }, { kind: "crash" as const, point: "sink.commit" as const, occurrence: 6 }]]) {
    const fs = new MemFs();
    const warnings: string[] = [];
    const hints: string[] = [];
    const r = await seedConfigJob({ feed, fs, faults: new Nemesis(faults), startTime: feed.startTime() }, { warn: (m) => void warnings.push(m), info() {}, debug: (m) => void hints.push(m) });
    expect(r.status).toBe("FINISHED");
    expect(r.restarts).toBe(faults.length);
    expect(r.checkpoints.filter((c) => c.status === "completed").length).toBeGreaterThanOrEqual(10);
    expect(r.checkpointStorage).toBe("FileSystemCheckpointStorage(/tmp/flinch/checkpoints/Binance-Trade-Processing-42)");
    // The README's job draws no warnings; the deprecation hint is there for whoever logs at debug level.
    expect(warnings).toEqual([]);
    expect(hints).toContain("FsStateBackend is deprecated; use HashMapStateBackend with FileSystemCheckpointStorage");
    const rows = readCommittedLines(fs, "file:///tmp/flinch/out").map((l) => parseCommittedLine(l));
    expect(windowLines(rows)).toEqual(windowLines(windowOracle(tape, 60_000)));
  }
});
