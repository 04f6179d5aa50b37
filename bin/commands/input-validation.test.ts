import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureCli } from "../capture-cli.ts";

/**
 * Every input class of docs/input-validation.md against every command that reads fixtures.
 * The corpus of bad fixtures is generated here, in a temp dir, never checked in. Each case
 * asserts the exit code and the one-line message naming file, line and field.
 */
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-inputs-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => captureCli(argv);

const W = 1_723_161_240_000; // 2024-08-08T23:54:00Z
type P = { e?: string; E?: unknown; s?: unknown; t?: unknown; p?: unknown; q?: unknown; T?: unknown; m?: unknown };
function trade(id: number, over: P = {}): string {
  return JSON.stringify({ e: "trade", E: W + id * 10 + 1, s: "BTCUSDT", t: id, p: "61000.10000000", q: "0.10000000", T: W + id * 10, m: true, M: true, ...over });
}
let n = 0;
function put(content: string | Buffer, ext = ".jsonl"): string {
  const f = path.join(dir, `f${++n}${ext}`);
  fs.writeFileSync(f, content);
  return f;
}
/** Good lines 1-2, the bad one at line 3, a good one after. */
const withBad = (bad: string) => put([trade(1), trade(2), bad, trade(4)].join("\n") + "\n");

/** [input class, case, file maker, line, message pattern (after "<file>:<line>: ")]. */
const BAD_LINES: [string, string, () => string, number, RegExp][] = [
  ["price", "price 0", () => withBad(trade(3, { p: "0" })), 3, /^field "p": price must be > 0$/],
  ["price", "price 0.00000000", () => withBad(trade(3, { p: "0.00000000" })), 3, /^field "p": price must be > 0$/],
  ["price", "negative price", () => withBad(trade(3, { p: "-5" })), 3, /^field "p": .*negative/],
  ["price", "price 10^13", () => withBad(trade(3, { p: "10000000000000" })), 3, /^field "p": price above 10\^12/],
  ["price", "price not a number", () => withBad(trade(3, { p: "abc" })), 3, /^field "p": .*not a number/],
  ["quantity", "quantity 0", () => withBad(trade(3, { q: "0" })), 3, /^field "q": quantity must be > 0$/],
  ["quantity", "quantity 10^26", () => withBad(trade(3, { q: "100000000000000000000000000" })), 3, /^field "q": quantity above 10\^12/],
  ["quantity", "9 decimals", () => withBad(trade(3, { q: "0.123456789" })), 3, /^field "q": .*more than 8 fractional digits/],
  ["quantity", "exponent", () => withBad(trade(3, { q: "1e-5" })), 3, /^field "q": .*not a number/],
  ["quantity", "number, not string", () => withBad(trade(3, { q: 0.1 })), 3, /^field "q": expected string, got number/],
  ["symbol", "<script>", () => withBad(trade(3, { s: "<script>" })), 3, /^field "s": symbol "<SCRIPT>" is not 1-20 of/],
  ["symbol", "../../etc", () => withBad(trade(3, { s: "../../etc" })), 3, /^field "s": symbol "..\/..\/ETC" is not/],
  ["symbol", "21 characters", () => withBad(trade(3, { s: "A".repeat(21) })), 3, /^field "s": symbol "A{21}" is not/],
  ["symbol", "empty", () => withBad(trade(3, { s: "" })), 3, /^field "s": empty symbol$/],
  ["id", "negative id", () => withBad(trade(3, { t: -3 })), 3, /^field "t": negative trade id -3$/],
  ["id", "fractional id", () => withBad(trade(3, { t: 3.5 })), 3, /^field "t": not an integer: 3.5$/],
  ["id", "id beyond 2^53", () => withBad(trade(3, { t: 2 ** 60 })), 3, /^field "t": not an integer/],
  ["time", "T far future (9999999999999)", () => withBad(trade(3, { T: 9_999_999_999_999 })), 3, /^field "T": time 9999999999999 is after .* \(now \+ 1 day\); pass --allow-future/],
  ["time", "T negative", () => withBad(trade(3, { T: -1 })), 3, /^field "T": time -1 is before 2017-01-01T00:00:00.000Z \(negative\)$/],
  ["time", "T in 2014", () => withBad(trade(3, { T: 1_400_000_000_000 })), 3, /^field "T": time 1400000000000 is before 2017/],
  ["time", "E far future", () => withBad(trade(3, { E: 9_999_999_999_999 })), 3, /^field "E": time 9999999999999 is after/],
  ["time", "T a string", () => withBad(trade(3, { T: "1723161240000" })), 3, /^field "T": expected number, got string$/],
  ["line", "malformed JSON", () => withBad('{"e":"trade","s":'), 3, /^malformed JSON/],
  ["line", "missing field m", () => withBad(trade(3).replace(/,"m":true/, "")), 3, /^field "m": missing$/],
  ["line", "NUL bytes", () => put(Buffer.concat([Buffer.from(`${trade(1)}\n${trade(2)}\n`), Buffer.from([0, 0, 10])])), 3, /^binary data/],
  ["line", "JSON array", () => withBad("[1,2]"), 3, /^expected a JSON object, got array$/],
];

/** Whole-file problems: line 0. */
const BAD_FILES: [string, string, () => string, RegExp][] = [
  ["empty", "0 bytes", () => put(""), /^no trades: the file is empty$/],
  ["empty", "blank lines only", () => put("\n\n  \n"), /^no trades: the file is empty$/],
  ["empty", "only other messages", () => put(`{"result":null,"id":1}\n{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}\n`), /^no trades among 2 lines \(1 reply, 1 bookTicker\)$/],
  ["empty", "gzip of nothing", () => put(gzipSync(""), ".jsonl.gz"), /^no trades: the file is empty$/],
  ["file type", "a FIFO (must not block)", () => {
    const f = path.join(dir, `fifo${++n}`);
    execFileSync("mkfifo", [f]);
    return f;
  }, /^is a FIFO, not a file$/],
  ["file type", "a directory", () => fs.mkdtempSync(path.join(dir, "d")), /^is a directory, not a file$/],
  ["file type", "a device (/dev/zero)", () => "/dev/zero", /^is a device, not a file$/],
  ["file type", "missing", () => path.join(dir, "nope.jsonl"), /^no such file$/],
  ["file type", "corrupt gzip", () => put(gzipSync(trade(1)).subarray(0, 12), ".gz"), /^corrupt gzip data/],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("strict: exit 2 naming file, line and field, in replay and check", () => {
  it.each(BAD_LINES)("%s: %s", async (_cls, _case, make, line, reason) => {
    const f = make();
    const results = path.join(dir, `results${n}.jsonl`);
    fs.writeFileSync(results, "");
    for (const argv of [["replay", f, "--out", path.join(dir, "out")], ["check", "--tape", f, "--output", results]]) {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      const m = new RegExp(`^flinch ${argv[0]}: ${escape(f)}:${line}: (.*)$`).exec(r.err);
      expect(m, r.err).not.toBeNull();
      expect(m![1]).toMatch(reason);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it.each(BAD_FILES)("%s: %s", async (_cls, _case, make, reason) => {
    const f = make();
    const results = path.join(dir, `results${n}.jsonl`);
    fs.writeFileSync(results, "");
    for (const argv of [["replay", f, "--out", path.join(dir, "out")], ["check", "--tape", f, "--output", results]]) {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      const m = new RegExp(`^flinch ${argv[0]}: (?:--tape )?${escape(f)}: (.*)$`).exec(r.err);
      expect(m, r.err).not.toBeNull();
      expect(m![1]).toMatch(reason);
    }
  });
});

describe("CSV (convert)", () => {
  const header = "id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch";
  const row = (id: number, price = "61000.1", qty = "0.1", time = W + id) => `${id},${price},${qty},1.0,${time},true,true`;
  const csv = (bad: string) => put([header, row(1), bad, row(3)].join("\n") + "\n", "-trades.csv");

  it.each([
    ["price 0", () => csv(row(2, "0")), 3, /^field "price": price must be > 0$/],
    ["qty 10^26", () => csv(row(2, "61000", "100000000000000000000000000")), 3, /^field "qty": quantity above 10\^12/],
    ["time negative", () => csv(`2,61000,0.1,1.0,-5,true,true`), 3, /^field "time": expected a non-negative integer/],
    ["time far future (2286)", () => csv(row(2, "61000", "0.1", 9_999_999_999_999)), 3, /^field "time": time 9999999999999 is after/],
    ["time before 2017", () => csv(row(2, "61000", "0.1", 1_000)), 3, /^field "time": time 1000 is before 2017/],
  ] as const)("%s -> exit 2", async (_c, make, line, reason) => {
    const f = make();
    const r = await cli("convert", f, "--symbol", "BTCUSDT", "--out", path.join(dir, `c${n}.jsonl`));
    expect(r.code).toBe(2);
    const m = new RegExp(`^flinch convert: ${escape(f)}:${line}: (.*)$`).exec(r.err);
    expect(m, r.err).not.toBeNull();
    expect(m![1]).toMatch(reason);
    expect(fs.existsSync(path.join(dir, `c${n}.jsonl`))).toBe(false); // no half fixture
  });

  it("--symbol '<script>' is refused naming the flag; an empty CSV is the same empty error as everywhere", async () => {
    const f = csv(row(2));
    expect(await cli("convert", f, "--symbol", "<script>", "--out", path.join(dir, "x.jsonl"))).toMatchObject({ code: 2, err: expect.stringMatching(/^flinch convert: --symbol: field "symbol": symbol "<SCRIPT>" is not/) });
    const empty = put(header + "\n", "-trades.csv");
    expect(await cli("convert", empty, "--symbol", "BTCUSDT", "--out", path.join(dir, "y.jsonl"))).toMatchObject({ code: 2, err: `flinch convert: ${empty}: no trades among 1 lines (1 csv-header)` });
  });
});

describe("--lenient quarantines to a file and counts, in replay, check and convert", () => {
  it("replay and check: 2 bad lines of 5 go to the quarantine file with their line numbers; the rest runs", async () => {
    const f = put([trade(1), trade(2, { p: "0" }), trade(3), "{oops", trade(5)].join("\n") + "\n");
    const q1 = path.join(dir, "replay-q.jsonl");
    const r = await cli("replay", f, "--lenient", "--quarantine", q1, "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.split("\n").at(-1)!)).toMatchObject({ trades: 3, quarantined: 2, quarantineFile: q1 });
    const lines = fs.readFileSync(q1, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.file, l.line])).toEqual([[f, 2], [f, 4]]);
    expect(lines[0].reason).toBe(`field "p": price must be > 0`);

    const results = path.join(dir, "lenient-results.jsonl");
    fs.writeFileSync(results, JSON.stringify({ key: "BTCUSDT", start: W, end: W + 60_000, quantity: "0.30000000", count: 3 }) + "\n");
    const c = await cli("check", "--tape", f, "--output", results, "--lenient");
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/quarantined 2 \(see .*lenient-results\.jsonl\.quarantine\.jsonl\)/);
    expect(fs.readFileSync(`${results}.quarantine.jsonl`, "utf8").trim().split("\n")).toHaveLength(2);
  });

  it("an unwritable quarantine file is exit 2 naming the flag; a FIFO as --output does not block check", async () => {
    const f = put([trade(1), trade(2, { p: "0" })].join("\n") + "\n");
    const r = await cli("replay", f, "--lenient", "--quarantine", "/proc/flinch/q.jsonl", "--out", path.join(dir, "out"));
    expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/^flinch replay: --quarantine: cannot write \/proc\/flinch\/q\.jsonl: ENOENT$/) });
    const fifo = path.join(dir, "results-fifo");
    execFileSync("mkfifo", [fifo]);
    expect(await cli("check", "--tape", f, "--output", fifo, "--lenient")).toMatchObject({ code: 2, err: `flinch check: --output: ${fifo} is not a regular file` });
  });

  it("convert: counted and written beside the output (it used to drop them silently)", async () => {
    const f = put(["id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch", `1,61000,0.1,1,${W},true,true`, `2,0,0.1,1,${W},true,true`, `3,61000,0.1,1,${W},true,true`].join("\n") + "\n", "-trades.csv");
    const out = path.join(dir, "conv.jsonl");
    const r = await cli("convert", f, "--symbol", "BTCUSDT", "--out", out, "--lenient");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/2 trades .*quarantined 1 \(see .*conv\.jsonl\.quarantine\.jsonl\)/);
    expect(JSON.parse(fs.readFileSync(`${out}.quarantine.jsonl`, "utf8"))).toMatchObject({ file: f, line: 3, reason: `field "price": price must be > 0` });
  });
});

describe("counted, not silent", () => {
  it("out-of-order ids are counted and reported (the tape is still sorted by id)", async () => {
    const f = put([trade(1), trade(3), trade(2), trade(5), trade(4)].join("\n") + "\n");
    const r = await cli("replay", f, "--json", "--out", path.join(dir, "out"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.split("\n").at(-1)!)).toMatchObject({ trades: 5, reordered: 2 });
    const t = await cli("replay", f, "--out", path.join(dir, "out"));
    expect(t.out).toMatch(/out of order 2/);
  });

  it("a genuinely late trade (140 s behind the watermark) is counted and does not fail replay", async () => {
    const lines = Array.from({ length: 30 }, (_, i) => trade(i + 1, { T: W + i * 10_000, E: W + i * 10_000 + 5 }));
    const lastT = W + 29 * 10_000;
    lines.push(trade(31, { T: lastT - 140_000, E: lastT + 10, q: "1.00000000" }));
    const f = put(lines.join("\n") + "\n");
    const r = await cli("replay", f, "--out", path.join(dir, "out"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/late 1 \(BTCUSDT 1 = 1\.00000000\): counted in the window operator's late-data totals/);
    expect(r.out).toMatch(/✔ committed output equals the oracle: \d+ windows; \d+ exact, 1 short by exactly the 1 late trades \(1\.00000000\)/);
    expect(r.out).toMatch(/✔ committed \+ late output conserves/);
  });

  it("--allow-future accepts a far-future time, and the engine ends with a named error instead of walking centuries", async () => {
    const f = put([trade(1), trade(2), trade(3, { T: 9_999_999_999_999, E: 9_999_999_999_999 })].join("\n") + "\n");
    const r = await cli("replay", f, "--allow-future", "--out", path.join(dir, "out"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^flinch replay: no input for 250000 events: virtual time idled from 2024-08-08T23:54:00.100Z to .* work is still scheduled at 2286-11-20T17:46:39.999Z/);
  }, 60_000);
});

const DATA = path.resolve(__dirname, "../../../shared/data/binance-2024-08-08");
const haveData = fs.existsSync(DATA);
if (!haveData) console.warn(`input-validation.test: ${DATA} absent, skipping the real-recordings checks`);

describe.skipIf(!haveData)("the real recordings pass validation unchanged", () => {
  it.each([
    ["btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl", 19_904, {}],
    ["raw/usdm_futures_btcusdt_20240808.gz", 21_313, undefined],
    ["raw/btcusdt_20240808.gz", undefined, undefined],
  ] as const)("%s", async (file, trades, skipped) => {
    const r = await cli("replay", path.join(DATA, file), "--json", "--out", path.join(dir, "out"));
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.split("\n").at(-1)!);
    expect(j).toMatchObject({ violations: 0, quarantined: 0, reordered: 0 });
    if (trades !== undefined) expect(j.trades).toBe(trades);
    if (skipped !== undefined) expect(j.skipped).toEqual(skipped);
    if (file.startsWith("raw/btcusdt")) expect(Object.keys(j.skipped).sort()).toEqual(expect.arrayContaining(["bookTicker", "depth@100ms"]));
  }, 60_000);
});
