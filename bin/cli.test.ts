import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "./main.ts";
import { splitShellWords } from "../scenarios/replay-line.ts";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-cli-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in process; returns exit code, stdout lines and stderr text. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const l = vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const e = vi.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  const w = vi.spyOn(console, "warn").mockImplementation((...a) => void err.push(a.join(" ")));
  try {
    return { code: await main(argv), out, err: err.join("\n") };
  } finally {
    l.mockRestore();
    e.mockRestore();
    w.mockRestore();
  }
}

const W = 1_723_161_240_000;
function payload(id: number, t: number, q: string, s = "BTCUSDT"): string {
  return JSON.stringify({ e: "trade", E: t + 5, s, t: id, p: "61000.10000000", q, T: t, m: id % 2 === 0, M: true });
}
function fixture(name: string, lines: string[]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, lines.join("\n") + "\n");
  return f;
}
const good = () => [payload(1, W + 1, "0.1"), payload(2, W + 2, "0.2"), payload(3, W + 60_000, "1.5"), JSON.stringify({ result: null, id: 1 })];

describe("flinch replay", () => {
  it("prints the JSON contract: windows sorted, 8-decimal quantities, no violations", async () => {
    const f = fixture("good.jsonl", [payload(4, W + 61_000, "2", "ETHUSDT"), ...good()]);
    const r = await cli("replay", f, "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.at(-1)!);
    expect(j).toMatchObject({ command: "replay", trades: 4, violations: 0, late: {} });
    expect(j.windows).toEqual([
      { symbol: "BTCUSDT", start: W, end: W + 60_000, quantity: "0.30000000", count: 2 },
      { symbol: "BTCUSDT", start: W + 60_000, end: W + 120_000, quantity: "1.50000000", count: 1 },
      { symbol: "ETHUSDT", start: W + 60_000, end: W + 120_000, quantity: "2.00000000", count: 1 },
    ]);
    expect(j.traceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(j.skipped).toEqual({ reply: 1 });
    for (const f of ["run.json", "report.md", "report.html", "junit.xml"]) expect(fs.existsSync(path.join(j.reportDir, f))).toBe(true);
  });

  it.each([
    ["malformed JSON", '{"e":"trade","s":"BTCUSDT",', /bad-1\.jsonl:3: .*JSON/i],
    ["negative quantity", payload(9, W + 3, "-1.0"), /bad-2\.jsonl:3: .*"q".*negative/],
    ["more than 8 decimals", payload(9, W + 3, "0.123456789"), /bad-3\.jsonl:3: .*"q".*more than 8 fractional digits/],
    ["non-numeric quantity", payload(9, W + 3, "abc"), /bad-4\.jsonl:3: .*"q".*not a number/],
    ["missing field", JSON.stringify({ e: "trade", E: W, s: "BTCUSDT", t: 9, p: "1", T: W, m: true }), /bad-5\.jsonl:3: .*"q".*missing/],
    ["binary garbage", "\u0000\u0001\u0002\ufffd\u0007", /bad-6\.jsonl:3: /],
  ])("exits 2 on %s, naming file and line", async (_what, line, re) => {
    const n = ["malformed JSON", "negative quantity", "more than 8 decimals", "non-numeric quantity", "missing field", "binary garbage"].indexOf(_what) + 1;
    const f = fixture(`bad-${n}.jsonl`, [good()[0], good()[1], line, good()[2]]);
    const r = await cli("replay", f, "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(re);
  });

  it("--lenient quarantines bad lines, counts them, and writes them next to the report", async () => {
    const f = fixture("mixed.jsonl", [good()[0], payload(9, W + 3, "-1"), "{oops", good()[1]]);
    const r = await cli("replay", f, "--lenient", "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.at(-1)!);
    expect(j.quarantined).toBe(2);
    expect(j.trades).toBe(2);
    const q = fs.readFileSync(path.join(j.reportDir, "quarantine.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(q.map((x) => x.line)).toEqual([2, 3]);
  });

  it("exits 2 on a missing file and on bad flags", async () => {
    expect((await cli("replay", path.join(dir, "nope.jsonl"))).err).toMatch(/nope\.jsonl.*no such file/);
    expect((await cli("replay", path.join(dir, "nope.jsonl"))).code).toBe(2);
    const f = fixture("ok.jsonl", good());
    expect((await cli("replay", f, "--windw", "1m")).code).toBe(2);
    expect((await cli("replay", f, "--window", "sixty")).err).toMatch(/--window: expected a duration/);
    expect((await cli("frobnicate")).code).toBe(2);
  });

  it("--crash-every N crashes the job repeatedly and still gets the oracle's windows", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) lines.push(payload(i + 1, W + i * 1_000, "0.01"));
    const f = fixture("long.jsonl", lines);
    const r = await cli("replay", f, "--crash-every", "40", "--parallelism", "2", "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.at(-1)!);
    expect(j.windows.map((w: { count: number }) => w.count)).toEqual([60, 60, 60, 60, 60, 60, 60, 60, 60, 60]);
    expect(j.violations).toBe(0);
  });
});

describe("flinch chaos", () => {
  it("EXACTLY_ONCE: exit 0 and the JSON contract", async () => {
    const r = await cli("chaos", "--scenario", "exactly-once", "--runs", "6", "--seed", "3", "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out.at(-1)!);
    expect(j).toMatchObject({ command: "chaos", runs: 6, passed: 6, violations: 0, failures: [] });
    expect(Object.keys(j.faults)).toContain("checkpoint.complete");
    expect(j.checkpoints.completed).toBeGreaterThan(0);
    expect(j.traceHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("AT_LEAST_ONCE: exit 1, and the failure's replay command reproduces it", async () => {
    const r = await cli("chaos", "--scenario", "at-least-once", "--runs", "150", "--seed", "42", "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out.at(-1)!);
    expect(j.violations).toBe(1);
    const f = j.failures[0];
    expect(f.replay).toMatch(/^npx flinch chaos --scenario at-least-once --engine-seed \d+ .*--faults '.+'$/);
    const again = await cli(...splitShellWords(f.replay).slice(2), "--json", "--out", path.join(dir, "out"));
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out.at(-1)!)).toMatchObject({ outcome: f.outcome, message: f.message });
    expect(f.replayPath).toMatch(/^npx flinch chaos --scenario at-least-once --seed 42 --run \d+ --path \S+$/);
    const viaPath = await cli(...splitShellWords(f.replayPath).slice(2), "--json", "--out", path.join(dir, "out"));
    expect(JSON.parse(viaPath.out.at(-1)!).failures[0].faults).toBe(f.faults);
  });
});

describe("flinch check", () => {
  it("accepts correct output and flags a wrong sum", async () => {
    const tape = fixture("tape.jsonl", good());
    const okOut = fixture("ok-out.jsonl", [
      JSON.stringify({ symbol: "BTCUSDT", start: W, end: W + 60_000, quantity: "0.30000000", count: 2 }),
      JSON.stringify({ symbol: "BTCUSDT", start: W + 60_000, end: W + 120_000, quantity: "1.5", count: 1 }),
    ]);
    expect((await cli("check", "--tape", tape, "--output", okOut)).code).toBe(0);
    const bad = fixture("bad-out.jsonl", [JSON.stringify({ symbol: "BTCUSDT", start: W, end: W + 60_000, quantity: "0.30000001", count: 2 })]);
    const r = await cli("check", "--tape", tape, "--output", bad, "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out.at(-1)!).violations).toBeGreaterThan(0);
    const float = fixture("float-out.jsonl", [JSON.stringify({ symbol: "BTCUSDT", start: W, end: W + 60_000, quantity: 0.3, count: 2 })]);
    const rf = await cli("check", "--tape", tape, "--output", float);
    expect(rf.code).toBe(2);
    expect(rf.err).toMatch(/float-out\.jsonl:1: field "quantity" must be a decimal string/);
  });
});

const REAL = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../shared/data/binance-2024-08-08/btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl");
describe.skipIf(!fs.existsSync(REAL))("flinch replay over the three transports", () => {
  it("--via ws and --via intercept give the same windows as --via sim on the real BTCUSDT recording", async () => {
    const outs = [];
    for (const via of ["sim", "ws", "intercept"]) {
      const r = await cli("replay", REAL, "--via", via, "--json", "--out", path.join(dir, "out"));
      expect(r.code, `${via}: ${r.err}`).toBe(0);
      outs.push(JSON.parse(r.out.at(-1)!));
    }
    expect(outs[0].windows).toHaveLength(12);
    expect(outs[1].windows).toEqual(outs[0].windows);
    expect(outs[2].windows).toEqual(outs[0].windows);
    expect(outs.map((o) => o.violations)).toEqual([0, 0, 0]);
  });
});
