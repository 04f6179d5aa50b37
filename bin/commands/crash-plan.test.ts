import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { captureCli } from "../capture-cli.ts";
import { buildTape } from "../../sim/binance/tape.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import { describePlan } from "../../sim/faults/fault-plan.ts";
import { crashPlan } from "./crash-plan.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-crash-plan-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const trade = (symbol: string, id: number, eventTime: number): Trade => ({ symbol, id, price: 1n, quantity: 1n, time: eventTime, eventTime, isBuyerMaker: false });

describe("replay --crash-every N: crashes placed from the tape, before the run", () => {
  it("crash k falls at the arrival of record k·N over all symbols, an arrival being the running maximum of the symbol's E", () => {
    // Arrivals: A 100, A 100 (E=90 arrives with its predecessor), A 300; B 150, B 200, B 400.
    const tape = buildTape([trade("A", 1, 100), trade("A", 2, 90), trade("A", 3, 300), trade("B", 1, 150), trade("B", 2, 200), trade("B", 3, 400)]);
    expect(describePlan(crashPlan(tape, 2))).toBe("crash@task.process#1/from=100, crash@task.process#1/from=200, crash@task.process#1/from=400");
    expect(crashPlan(tape, 4).map((f) => (f.kind === "crash" ? f.from : -1))).toEqual([200]);
    expect(crashPlan(tape, 7)).toEqual([]);
    expect(crashPlan(tape, 1)).toHaveLength(6);
  });

  it("every planned crash fires, in one run (no calibration), the windows stay exact, and the same line gives the same trace", async () => {
    const W = 1_723_161_240_000;
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      for (const s of ["BTCUSDT", "ETHUSDT"]) lines.push(JSON.stringify({ e: "trade", E: W + i * 1_000 + 5, s, t: i + 1, p: "61000.1", q: "0.01", T: W + i * 1_000, m: false, M: true }));
    }
    const f = path.join(dir, "two.jsonl");
    fs.writeFileSync(f, lines.join("\n") + "\n");
    const run = async (out: string) => {
      const r = await captureCli(["replay", f, "--crash-every", "40", "--parallelism", "2", "--json", "--out", path.join(dir, out)]);
      expect(r.code).toBe(0);
      expect(r.err).not.toMatch(/never fired/);
      const j = JSON.parse(r.out.split("\n").at(-1)!);
      const model = JSON.parse(fs.readFileSync(path.join(j.reportDir, "run.json"), "utf8"));
      return { j, model };
    };
    const a = await run("a");
    expect(a.j.violations).toBe(0);
    expect(a.j.windows).toHaveLength(10);
    for (const w of a.j.windows) expect([w.count, w.quantity]).toEqual([60, "0.60000000"]);
    expect(a.model.counters["faults.fired"]).toBe(15); // floor(600 / 40)
    expect(a.model.summary.restarts).toBe(15);
    const b = await run("b");
    expect(b.j.traceHash).toBe(a.j.traceHash);
  });
});
