import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { latestCheckpoint } from "./checkpoints.ts";
import { readCommittedParts, readLate, readPrinted } from "./output.ts";
import { drawPlan, parseFlinkPlan, FLINK_POINTS } from "./plan.ts";
import { formatReplayLine } from "../replay-line.ts";

/** The driver's pieces that need no JVM: plans, the checkpoint finder, the output readers. */
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-flink-driver-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const row = (s: string, start: number, q: string, n: number) => JSON.stringify({ symbol: s, start, end: start + 60_000, quantity: q, count: n });

describe("flink driver", () => {
  it("parses plans and names what is wrong", () => {
    expect(parseFlinkPlan("crash@checkpoint.complete#2, kill@checkpoint.metadata#1")).toEqual(["crash@checkpoint.complete#2", "kill@checkpoint.metadata#1"]);
    expect(() => parseFlinkPlan("crash@checkpoint.ack#1")).toThrow(/checkpoint\.ack is not a point real Flink reaches/);
    expect(() => parseFlinkPlan("crash@checkpoint.metadata#1")).toThrow(/kill from outside/);
    expect(() => parseFlinkPlan("boom")).toThrow(/cannot parse "boom"/);
  });

  it("draws the same plans from the same seed, only at reachable points", () => {
    const a = Array.from({ length: 30 }, (_, i) => drawPlan(`7/${i}`, 5000));
    expect(Array.from({ length: 30 }, (_, i) => drawPlan(`7/${i}`, 5000))).toEqual(a);
    for (const p of a) for (const f of p) expect(FLINK_POINTS).toContain(/@([a-z.-]+)#/.exec(f)![1]);
    expect(new Set(a.flat().map((f) => /@([a-z.-]+)#/.exec(f)![1])).size).toBeGreaterThanOrEqual(6);
  });

  it("reads only finished part files: FileSink's dot-prefixed in-progress and pending files are not output", () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, "part-a-0"), `${row("BTCUSDT", 0, "1.00000000", 2)}\n`);
    fs.writeFileSync(path.join(d, ".part-a-1.inprogress.x"), `${row("BTCUSDT", 60_000, "9.00000000", 9)}\n`);
    fs.mkdirSync(path.join(d, "bucket"));
    fs.writeFileSync(path.join(d, "bucket", "part-b-0"), `${row("ETHUSDT", 0, "2.50000000", 1)}\n`);
    expect(readCommittedParts(d).map((r) => `${r.symbol} ${r.start} ${r.quantity} ${r.count}`).sort()).toEqual(["BTCUSDT 0 100000000 2", "ETHUSDT 0 250000000 1"]);
  });

  it("separates printed windows from late records", () => {
    const out = `${row("BTCUSDT", 0, "1.00000000", 2)}\n2> ${row("ETHUSDT", 0, "3.00000000", 3)}\nlate> {"symbol":"BTCUSDT","id":5,"time":1,"quantity":"0.10000000"}\nflinch-flink: net runtime ms 5\n`;
    expect(readPrinted(out).map((r) => r.symbol)).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(readLate(out)).toEqual([{ symbol: "BTCUSDT", id: 5, time: 1, quantity: "0.10000000" }]);
  });

  it("restores from the newest checkpoint with a _metadata, across job directories", () => {
    const d = tmp();
    const chk = (job: string, n: number, meta: boolean) => {
      fs.mkdirSync(path.join(d, job, `chk-${n}`), { recursive: true });
      if (meta) fs.writeFileSync(path.join(d, job, `chk-${n}`, "_metadata"), "x");
    };
    chk("job1", 3, true);
    chk("job2", 5, true);
    chk("job2", 6, false); // the checkpoint the JVM died in
    expect(latestCheckpoint(d)).toMatchObject({ id: 5, dir: path.join(d, "job2", "chk-5") });
    expect(latestCheckpoint(path.join(d, "none"))).toBeUndefined();
  });

  it("replay lines quote what a shell would expand", () => {
    expect(formatReplayLine("flink chaos", ["--faults", "crash@task.process#3[Source]"])).toBe("npx flinch flink chaos --faults 'crash@task.process#3[Source]'");
  });
});
