import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { formatFixed, parseFixed } from "../../engine/decimal.ts";
import { FixtureError, loadFixture, loadFixtures, receiveTimeNs } from "./fixtures.ts";
import { convertCsvToJsonl, tapeToJsonl } from "./csv.ts";
import { generateTape } from "./generator.ts";
import { tapeTrades, type Tape } from "./tape.ts";

const dir = mkdtempSync(path.join(tmpdir(), "flinch-fixtures-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function put(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}
const ids = (tape: Tape, s = "BTCUSDT") => (tape.bySymbol.get(s) ?? []).map((t) => t.id);
const payload = (id: number, q = "0.00100000", s = "BTCUSDT") =>
  `{"e":"trade","E":${1723161255343 + id},"s":"${s}","t":${id},"p":"61837.63000000","q":"${q}","T":${1723161255342 + id},"m":true,"M":true}`;
const combined = (id: number) => `{"stream":"btcusdt@trade","data":${payload(id)}}`;
const expectedTrade = (id: number) => ({
  symbol: "BTCUSDT", id, price: 6_183_763_000_000n, quantity: 100_000n, time: 1723161255342 + id, eventTime: 1723161255343 + id, isBuyerMaker: true,
});

describe("formats", () => {
  it("raw @trade JSONL, with blank lines and CRLF endings", () => {
    const tape = loadFixture(put("raw.jsonl", `${payload(1)}\r\n\r\n${payload(2)}\r\n`));
    expect([...tapeTrades(tape)]).toEqual([expectedTrade(1), expectedTrade(2)]);
    expect(tape.stats).toMatchObject({ lines: 2, trades: 2 });
  });

  it("combined-stream JSONL, gzipped, detected by magic bytes whatever the name", () => {
    const tape = loadFixture(put("combined.jsonl", gzipSync(`${combined(1)}\n${combined(2)}\n`)));
    expect([...tapeTrades(tape)]).toEqual([expectedTrade(1), expectedTrade(2)]);
  });

  it("<recv_ns> <json> lines keep the receive time beside the trade", () => {
    const tape = loadFixture(put("recv.txt.gz", gzipSync(`1723161254087896568 ${combined(1)}\n1723161254347673567 ${payload(2)}\n`)));
    const [a, b] = [...tapeTrades(tape)];
    expect(a).toEqual(expectedTrade(1));
    expect(receiveTimeNs(a!)).toBe(1723161254087896568n);
    expect(receiveTimeNs(b!)).toBe(1723161254347673567n);
  });

  const csvRows = ["3735683259,61837.63,0.00100000,61.83763,1723161255342,True,True", "3735683260,61837.64,0.5,30918.82,1723161255343,False,True"];
  const csvTrades = (time0: number) => [
    { symbol: "BTCUSDT", id: 3735683259, price: 6_183_763_000_000n, quantity: 100_000n, time: time0, eventTime: time0, isBuyerMaker: true },
    { symbol: "BTCUSDT", id: 3735683260, price: 6_183_764_000_000n, quantity: 50_000_000n, time: time0 + 1, eventTime: time0 + 1, isBuyerMaker: false },
  ];

  it("data.binance.vision CSV without a header, symbol from the file name", () => {
    const tape = loadFixture(put("BTCUSDT-trades-2024-08-08.csv", csvRows.join("\n") + "\n"));
    expect([...tapeTrades(tape)]).toEqual(csvTrades(1723161255342));
  });

  it("CSV with a header (counted as skipped), gzipped, symbol from options", () => {
    const tape = loadFixture(put("t.csv.gz", gzipSync(["id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch", ...csvRows].join("\n"))), { symbol: "btcusdt" });
    expect([...tapeTrades(tape)]).toEqual(csvTrades(1723161255342));
    expect(tape.stats).toMatchObject({ lines: 3, trades: 2, skipped: { "csv-header": 1 } });
  });

  it("CSV with microsecond times (newer files) is floored to ms; futures 6-column header", () => {
    const us = loadFixture(put("BTCUSDT-trades-2025-01-02.csv", csvRows.map((r) => r.replace(",1723161255342,", ",1723161255342999,").replace(",1723161255343,", ",1723161255343000,")).join("\n")));
    expect([...tapeTrades(us)]).toEqual(csvTrades(1723161255342));
    const fut = loadFixture(put("fut.csv", "id,price,qty,quote_qty,time,is_buyer_maker\n" + csvRows.map((r) => r.slice(0, r.lastIndexOf(","))).join("\n")), { symbol: "BTCUSDT" });
    expect([...tapeTrades(fut)]).toEqual(csvTrades(1723161255342));
  });

  it("skips non-trade messages and counts them by kind; a symbol option filters JSON with a count", () => {
    const lines = [
      `{"result":null,"id":1}`,
      `{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0","B":"1.0","a":"1.1","A":"2.0"}}`,
      `{"u":1,"s":"BTCUSDT","b":"1.0","B":"1.0","a":"1.1","A":"2.0"}`,
      `{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}`,
      `{"lastUpdateId":5,"bids":[],"asks":[]}`,
      payload(1),
      payload(1, "0.1", "ETHUSDT"),
    ];
    const tape = loadFixture(put("mixed.jsonl", lines.join("\n")), { symbol: "BTCUSDT" });
    expect(tape.stats).toMatchObject({
      lines: 7, trades: 1,
      skipped: { reply: 1, bookTicker: 2, "depth@100ms": 1, depth: 1, "trade (other symbol)": 1 },
    });
  });

  it("drops resent ids with a count and reports gaps, also across merged files", () => {
    const a = put("a.jsonl", [payload(1), payload(2), payload(2, "9.0"), payload(5)].join("\n"));
    const b = put("b.jsonl", [payload(5), payload(6), payload(9)].join("\n"));
    const one = loadFixture(a);
    expect(one.stats).toMatchObject({ trades: 3, duplicates: 1, gaps: [{ symbol: "BTCUSDT", afterId: 2, nextId: 5 }] });
    expect(one.bySymbol.get("BTCUSDT")![1]!.quantity).toBe(100_000n);
    const both = loadFixtures([a, b]);
    expect(ids(both)).toEqual([1, 2, 5, 6, 9]);
    expect(both.stats).toMatchObject({ lines: 7, trades: 5, duplicates: 2 });
    expect(both.stats.gaps).toEqual([{ symbol: "BTCUSDT", afterId: 2, nextId: 5 }, { symbol: "BTCUSDT", afterId: 6, nextId: 9 }]);
  });
});

describe("bad input", () => {
  const good = payload(1);
  const cases: [string, string | Buffer, number, RegExp | string][] = [
    ["malformed JSON", `${good}\n\n{"e":"trade",\n`, 3, /malformed JSON/],
    ["negative quantity", `${good}\n${payload(2, "-1")}`, 2, `field "q": invalid decimal "-1": negative quantity`],
    ["non-numeric price", `${good}\n${payload(2).replace("61837.63000000", "abc")}`, 2, `field "p": invalid decimal "abc": not a number`],
    ["more than 8 decimals", `${payload(2, "0.123456789")}`, 1, /field "q".*more than 8 fractional digits/],
    ["missing field", `${good}\n${good}\n${payload(3).replace(/"T":\d+,/, "")}`, 3, `field "T": missing`],
    ["wrong type", `${payload(2).replace('"t":2', '"t":"2"')}`, 1, `field "t": expected number, got string`],
    ["NUL bytes", Buffer.concat([Buffer.from(`${good}\n`), Buffer.from([0, 0, 0, 10])]), 2, /binary data/],
    ["invalid UTF-8", Buffer.concat([Buffer.from(`${good}\n${good}\n`), Buffer.from([0xff, 0xfe, 0x7b, 10])]), 3, /binary data/],
    ["bad receive-time prefix", `1723161254087896568 ${combined(1)}\nabc ${combined(2)}`, 2, /expected `<receive time ns> <json>`/],
  ];
  it.each(cases)("%s -> FixtureError naming file and line", (_, content, line, reason) => {
    const file = put("bad.jsonl", content);
    const err = catchError(() => loadFixture(file));
    expect(err).toBeInstanceOf(FixtureError);
    expect(err).toMatchObject({ name: "FixtureError", file, line });
    expect(err.message.startsWith(`${file}:${line}: `)).toBe(true);
    if (typeof reason === "string") expect(err.reason).toBe(reason);
    else expect(err.reason).toMatch(reason);
  });

  it("the message has the documented shape", () => {
    const file = put("x.jsonl", `${payload(1)}\n${payload(2, "-1")}\n`);
    expect(() => loadFixture(file)).toThrow(`${file}:2: field "q": invalid decimal "-1": negative quantity`);
  });

  it.each([
    ["wrong column count", "1,2.0,3.0,6.0,1723161255342,true,true\n2,2.0,3.0,6.0,1723161255343,true\n", 2, /2: CSV line has 6 columns, expected 7/],
    ["bad boolean", "id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch\n1,2.0,3.0,6.0,1723161255342,yes,true\n", 2, /field "isBuyerMaker": expected true or false/],
    ["bad id", "1,2.0,3.0,6.0,1723161255342,true,true\nx1,2.0,3.0,6.0,1723161255342,true,true\n", 2, /field "id"/],
    ["negative qty", "1,2.0,3.0,6.0,1723161255342,true,true\n\n2,2.0,-3.0,6.0,1723161255342,true,true\n", 3, /field "qty".*negative/],
  ])("CSV %s", (_, content, line, msg) => {
    const file = put("BTCUSDT-trades-bad.csv", content);
    expect(catchError(() => loadFixture(file))).toMatchObject({ file, line, message: expect.stringMatching(msg) });
  });

  it("file-level problems are line 0, even when lenient", () => {
    const missing = path.join(dir, "nope.jsonl");
    expect(catchError(() => loadFixture(missing, { lenient: true }))).toMatchObject({ file: missing, line: 0, reason: "cannot read fixture: no such file" });
    const gz = put("broken.gz", gzipSync(payload(1)).subarray(0, 20));
    expect(catchError(() => loadFixture(gz, { lenient: true }))).toMatchObject({ line: 0, reason: expect.stringMatching(/corrupt gzip/) });
    const nosym = put("trades.csv", "1,2.0,3.0,6.0,100,true,true\n");
    expect(catchError(() => loadFixture(nosym))).toMatchObject({ line: 0, reason: expect.stringMatching(/CSV has no symbol/) });
  });

  it("lenient mode quarantines every bad line with its number and keeps the rest", () => {
    const lines = [payload(1), "{oops", payload(2, "-1"), "", payload(3), "\u0000\u0000", `{"result":null,"id":7}`, payload(4).replace('"m":true', '"m":1'), payload(5)];
    const file = put("lenient.jsonl", lines.join("\n"));
    const tape = loadFixture(file, { lenient: true });
    expect(ids(tape)).toEqual([1, 3, 5]);
    expect(tape.stats.quarantined.map((q) => [q.file, q.line])).toEqual([[file, 2], [file, 3], [file, 6], [file, 8]]);
    expect(tape.stats.quarantined[1]).toMatchObject({ reason: `field "q": invalid decimal "-1": negative quantity`, text: payload(2, "-1") });
    const s = tape.stats;
    expect(s.lines).toBe(s.trades + s.duplicates + s.quarantined.length + Object.values(s.skipped).reduce((a, b) => a + b, 0));
  });

  it("lenient: a bad first line does not decide the file's format", () => {
    const recv = put("first-bad.txt", ["garbage here", `1723161254087896568 ${combined(1)}`, `1723161254087896569 ${combined(2)}`].join("\n"));
    expect(loadFixture(recv, { lenient: true }).stats).toMatchObject({ trades: 2, quarantined: [{ line: 1 }] });
    const csv = put("ETHUSDT-trades-x.csv", ["1,2.0", "id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch", "1,2.0,3.0,6.0,1723161255342,true,true"].join("\n"));
    expect(loadFixture(csv, { lenient: true }).stats).toMatchObject({ trades: 1, skipped: { "csv-header": 1 }, quarantined: [{ line: 1 }] });
  });

  test.prop([fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }).filter((b) => b.includes(false))], { numRuns: 30 })(
    "lenient: quarantined count equals the bad lines written, at their line numbers",
    (bad) => {
      const lines = bad.map((b, i) => (b ? `${i},garbage` : payload(i)));
      const tape = loadFixture(put("prop.jsonl", lines.join("\n")), { lenient: true });
      expect(tape.stats.quarantined.map((q) => q.line)).toEqual(bad.flatMap((b, i) => (b ? [i + 1] : [])));
      expect(tape.stats.trades).toBe(bad.filter((b) => !b).length);
    },
  );
});

describe("csv.ts", () => {
  it("tapeToJsonl round-trips a generated tape through loadFixture", () => {
    const tape = generateTape({ seed: "rt", symbols: ["ETHUSDT", "BTCUSDT"], durationMs: 20_000 });
    const text = tapeToJsonl(tape);
    expect(text.endsWith("\n") && !text.includes("\r")).toBe(true);
    expect([...tapeTrades(loadFixture(put("rt.jsonl", text)))]).toEqual([...tapeTrades(tape)]);
  });

  it("convertCsvToJsonl writes raw @trade payloads", () => {
    const src = put("conv.csv", "id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch\n7,1.5,2,3,1723161255342999,false,true\n8,1.5,1,1.5,1723161255343000,true,true\n");
    const out = path.join(dir, "conv.jsonl");
    expect(convertCsvToJsonl(src, "BTCUSDT", out).stats.trades).toBe(2);
    expect(readFileSync(out, "utf8")).toBe(
      `{"e":"trade","E":1723161255342,"s":"BTCUSDT","t":7,"p":"1.50000000","q":"2.00000000","T":1723161255342,"m":false,"M":true}\n` +
        `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":8,"p":"1.50000000","q":"1.00000000","T":1723161255343,"m":true,"M":true}\n`,
    );
  });
});

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const data = path.resolve(repoRoot, "../shared/data/binance-2024-08-08");
const haveData = existsSync(data);
if (!haveData) console.log("../shared/data absent: skipping real-recording tests");

describe.skipIf(!haveData)("real recordings (binance-2024-08-08)", () => {
  const f = (p: string) => path.join(data, p);
  const btcJsonl = f("btcusdt_trade_20240808T2354Z-20240809T0005Z.jsonl");

  it("BTCUSDT jsonl: 19,904 trades, ids 3735683259..3735703162, no gaps", () => {
    const tape = loadFixture(btcJsonl);
    const i = ids(tape);
    expect(tape.stats).toMatchObject({ lines: 19904, trades: 19904, duplicates: 0, gaps: [], quarantined: [], skipped: {} });
    expect([i[0], i.at(-1)]).toEqual([3735683259, 3735703162]);
  });

  it("ETHUSDT jsonl: 14,515 trades", () => {
    const tape = loadFixture(f("ethusdt_trade_20240808T2354Z-20240809T0005Z.jsonl"));
    expect(tape.stats).toMatchObject({ trades: 14515, gaps: [], duplicates: 0 });
  });

  it("the *_with_recv_ns.txt.gz files hold the same trades as the jsonl", () => {
    for (const s of ["btcusdt", "ethusdt"]) {
      const recv = loadFixture(f(`${s}_trade_with_recv_ns.txt.gz`));
      const jsonl = loadFixture(f(`${s}_trade_20240808T2354Z-20240809T0005Z.jsonl`));
      expect([...tapeTrades(recv)]).toEqual([...tapeTrades(jsonl)]);
      expect(receiveTimeNs(recv.bySymbol.get(s.toUpperCase())![0]!)).toBeGreaterThan(1723161250000000000n);
    }
  });

  it("raw spot recordings: trades kept, bookTicker/depth and the one snapshot line skipped; merged = jsonl", () => {
    const d8 = loadFixture(f("raw/btcusdt_20240808.gz"));
    const d9 = loadFixture(f("raw/btcusdt_20240809.gz"));
    // The one non-stream line in each _20240808 file is a REST depth snapshot {"lastUpdateId",...}.
    expect(d8.stats).toMatchObject({ lines: 41249, trades: 9757, skipped: { bookTicker: 28040, "depth@100ms": 3451, depth: 1 }, gaps: [], duplicates: 0 });
    expect(d9.stats).toMatchObject({ lines: 58325, trades: 10147, skipped: { bookTicker: 45134, "depth@100ms": 3044 }, gaps: [], duplicates: 0 });
    const merged = loadFixtures([f("raw/btcusdt_20240808.gz"), f("raw/btcusdt_20240809.gz")]);
    expect([...tapeTrades(merged)]).toEqual([...tapeTrades(loadFixture(btcJsonl))]);
    const eth = loadFixtures([f("raw/ethusdt_20240808.gz"), f("raw/ethusdt_20240809.gz")]);
    expect(eth.stats).toMatchObject({ lines: 79744, trades: 14515, skipped: { bookTicker: 58758, "depth@100ms": 6470, depth: 1 }, gaps: [] });
  });

  it("USD-M futures recording: 21,313 trades with X and no M, 3-decimal quantities", () => {
    const tape = loadFixture(f("raw/usdm_futures_btcusdt_20240808.gz"));
    expect(tape.stats).toMatchObject({ lines: 93954, trades: 21313, skipped: { bookTicker: 66089, "depth@0ms": 6551, depth: 1 }, gaps: [], duplicates: 0 });
    const i = ids(tape);
    expect([i[0], i.at(-1)]).toEqual([5266583935, 5266605247]);
    expect(tape.bySymbol.get("BTCUSDT")!.every((t) => t.quantity % 100_000n === 0n)).toBe(true);
  });

  it("per-minute BTCUSDT totals match the published windows exactly", () => {
    const byMinute = new Map<number, { n: number; q: bigint }>();
    for (const t of tapeTrades(loadFixture(btcJsonl))) {
      const m = Math.floor(t.time / 60_000);
      const w = byMinute.get(m) ?? { n: 0, q: 0n };
      byMinute.set(m, { n: w.n + 1, q: w.q + t.quantity });
    }
    const first = Date.UTC(2024, 7, 8, 23, 54) / 60_000;
    const want = [[875, "12.43238"], [1255, "15.07702"], [1011, "15.49778"], [2069, "59.29235"], [3216, "77.14202"], [1312, "32.41946"],
      [1824, "34.08180"], [2931, "79.69369"], [1992, "40.44064"], [1705, "37.08509"], [1461, "30.31600"], [253, "4.43729"]] as const;
    expect([...byMinute.keys()]).toEqual(want.map((_, k) => first + k));
    expect([...byMinute.values()].map((w) => [w.n, formatFixed(w.q)])).toEqual(want.map(([n, q]) => [n, formatFixed(parseFixed(q))]));
  });
});

function catchError(f: () => unknown): FixtureError {
  try {
    f();
  } catch (e) {
    return e as FixtureError;
  }
  throw new Error("expected a FixtureError");
}
