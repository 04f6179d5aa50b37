import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import { loadLines, receiveTimeNs } from "./fixtures.ts";
import { buildTape, tapeTrades, type Tape } from "./tape.ts";
import { readTradeFile, streamTradeFile, TradeReadError, type TradeReadResult, type TradeReaderOptions } from "./trade-reader.ts";

/**
 * The byte-scanning reader must be indistinguishable from the loader: same trades (exact
 * bigints), same receive times, same counts, same quarantine, same first error.
 */

const dir = mkdtempSync(path.join(tmpdir(), "flinch-trade-reader-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function put(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** The reader's result as the loader's Tape, with the receive times beside it. */
function asTape(r: TradeReadResult, recv: Map<Trade, bigint>): { tape: Tape; recv: (bigint | undefined)[] } {
  if (r.kind !== "json") throw new Error("expected a JSON file");
  const tape = buildTape(r.trades, { lines: r.lines, skipped: r.skipped, quarantined: r.quarantined });
  return { tape, recv: [...tapeTrades(tape)].map((t) => recv.get(t)) };
}

function outcome<T>(f: () => T): { ok: T } | { error: string } {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function expectSame(file: string, opts: TradeReaderOptions = {}) {
  const want = outcome(() => {
    const tape = loadLines(file, opts);
    return { tape, recv: [...tapeTrades(tape)].map((t) => receiveTimeNs(t)) };
  });
  const got = outcome(() => {
    const recv = new Map<Trade, bigint>();
    return asTape(readTradeFile(file, { ...opts, onReceiveTime: (t, ns) => recv.set(t, ns) }), recv);
  });
  expect(got).toEqual(want);
  // Chunks far smaller than a line: the buffer grows, lines straddle reads, the fallback to a whole read still agrees.
  const small = outcome(() => {
    const recv = new Map<Trade, bigint>();
    return asTape(readTradeFile(file, { ...opts, onReceiveTime: (t, ns) => recv.set(t, ns) }, 64), recv);
  });
  expect(small).toEqual(want);
  return got;
}

const DATA = "../shared/data/binance-2024-08-08";
function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = path.join(d, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe.skipIf(!existsSync(DATA))("against the loader on the recorded data", () => {
  if (!existsSync(DATA)) console.warn(`trade-reader: ${DATA} absent, recorded-data comparison skipped`);
  const all = existsSync(DATA) ? files(DATA) : [];
  it.each(all)("%s", (file) => {
    const got = expectSame(file);
    if ("ok" in got) expect(got.ok.tape.stats.lines).toBeGreaterThan(0);
    expectSame(file, { symbol: "ethusdt" });
  });

  it("the streaming variant reads the same", async () => {
    for (const file of all) {
      const whole = readTradeFile(file);
      const streamed = await streamTradeFile(file);
      expect(streamed).toEqual(whole);
    }
  });
});

const payload = (id: number, q = "0.00100000", s = "BTCUSDT") =>
  `{"e":"trade","E":${1723161255343 + id},"s":"${s}","t":${id},"p":"61837.63000000","q":"${q}","T":${1723161255342 + id},"m":true,"M":true}`;

describe("edge cases the fast path must decline or match", () => {
  const lines = [
    payload(1),
    `{"stream":"btcusdt@trade","data":${payload(2)}}`,
    `1723161254087896568 ${payload(3)}`,
    payload(4, "0.000000001"), // 9 fractional digits: an error
    payload(5, "1.1234567800"), // zeros beyond 8 digits: fine
    payload(6, "-1"),
    payload(7, "12345678.5"), // 8 integer digits: the slow path's BigInt route
    payload(8, ".5"),
    payload(9, "5."),
    `{"e":"trade","E":1723161255343,"s":"btcusdt","t":10,"p":"1","q":"2","T":1723161255342,"m":false}`, // lower-case symbol, no M
    `{"e":"trade","s":"BTCUSDT","t":11,"p":"1","q":"2","T":1723161255342,"m":false}`, // no E
    `{"e":"trade","E":1723161255343,"s":"","t":12,"p":"1","q":"2","T":1723161255342,"m":false}`,
    `{"e":"trade","E":1.5,"s":"BTCUSDT","t":13,"p":"1","q":"2","T":1723161255342,"m":false}`,
    `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":014,"p":"1","q":"2","T":1723161255342,"m":false}`,
    `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":15,"p":"1","q":"2","T":1723161255342,"m":"no"}`,
    `{"e":"trade","E":1723161255343,"s":"BTC\\u0055SDT","t":16,"p":"1","q":"2","T":1723161255342,"m":true}`,
    `{"e": "trade", "E":1723161255343,"s":"BTCUSDT","t":17,"p":"1","q":"2","T":1723161255342,"m":true}`,
    `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":18,"p":"1","q":"2","T":1723161255342,"m":true,"t":19}`, // duplicate key: last wins
    `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":20,"p":"1","q":"2","T":1723161255342,"m":true}  `,
    `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":99999999999999999,"p":"1","q":"2","T":1723161255342,"m":true}`,
    `{"result":null,"id":1}`,
    `{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}}`,
    `{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":21,"p":"1","q":"2","T":1723161255342,"m":true`,
    `not json`,
    `{"e":"trade","E":1723161255343,"s":"ÉTH","t":22,"p":"1","q":"2","T":1723161255342,"m":true}`,
    `{"e":"trade","E":1723161255343,"s":"BTC\u0000","t":23,"p":"1","q":"2","T":1723161255342,"m":true}`,
    "   ",
    `{"e":"aggTrade","E":1723161255343,"s":"BTCUSDT"}`,
    `[1,2]`,
    `{"e":"trade","E":1723161255343,"s":"ETHUSDT","t":24,"p":"2683.8","q":"0.5","T":1723161255342,"m":false,"X":"MARKET"}`,
    // Canonical shape, outside the trade domain: the fast path's trades get the loader's checks too.
    `{"e":"trade","E":7258118400000,"s":"BTCUSDT","t":25,"p":"1","q":"2","T":7258118400000,"m":true}`,
    payload(26, "0"),
    payload(27, "1", "BTC/USDT"),
  ];

  it("every line, in lenient mode, plain and gzip, and with a symbol filter", () => {
    const text = "\uFEFF" + lines.join("\r\n") + "\n";
    for (const name of ["edge.jsonl", "edge.txt"]) {
      expectSame(put(name, text), { lenient: true });
      expectSame(put(name + ".gz", gzipSync(text)), { lenient: true });
      expectSame(put(name, text), { lenient: true, symbol: "ethusdt" });
    }
  });

  it("strict mode stops at the same line with the same message", () => {
    for (let i = 0; i < lines.length; i++) {
      const got = expectSame(put(`strict${i}.jsonl`, [payload(100), lines[i], payload(101)].join("\n")));
      if (/"t":(4|6|12|13|15),/.test(lines[i]!)) {
        expect(got).toHaveProperty("error");
        expect((got as { error: string }).error).toContain(":2: ");
      }
    }
  });

  it("recv-prefixed lines: receive times of 1 to 20 digits, exact", () => {
    const f = put("recv.txt", [`7 ${payload(1)}`, `00000000000000000009 ${payload(2)}`, `99999999999999999999 ${payload(3)}`, `1723161254087896568 ${payload(4)}`, `x ${payload(5)}`].join("\n"));
    const got = expectSame(f, { lenient: true });
    expect((got as { ok: { recv: unknown[] } }).ok.recv).toEqual([7n, 9n, 99999999999999999999n, 1723161254087896568n]);
  });

  it("a CSV file is left to the loader's CSV path", () => {
    expect(readTradeFile(put("BTCUSDT-trades-2024-08-08.csv", "1,61837.63,0.001,61.83763,1723161255342,true,true\n"))).toEqual({ kind: "csv" });
  });

  it("invalid UTF-8 and a missing file are named like the loader names them", () => {
    const bad = Buffer.concat([Buffer.from(payload(1) + "\n"), Buffer.from([0xff, 0xfe]), Buffer.from(payload(2) + "\n" + payload(3).replace("BTCUSDT", "BTC\uFFFD") + "\n")]);
    expectSame(put("bad-utf8.jsonl", bad), { lenient: true });
    // Far into the file (after many chunks have been read): a genuine U+FFFD, then invalid bytes.
    const head = Array.from({ length: 30 }, (_, i) => payload(i + 10)).join("\n") + "\n";
    const late = Buffer.concat([Buffer.from(head + payload(50).replace("BTCUSDT", "BTC\uFFFD") + "\n" + head), Buffer.from([0xff]), Buffer.from("\n" + payload(60) + "\n")]);
    for (const lenient of [true, false]) expectSame(put("late-bad-utf8.jsonl", late), { lenient });
    expect(() => readTradeFile(path.join(dir, "absent.jsonl"))).toThrow(TradeReadError);
    expectSame(path.join(dir, "absent.jsonl"));
  });

  test.prop([fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 99_999_999_999_999n }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 40 })], { numRuns: 50 })(
    "quantities of every size and spelling parse to the loader's exact units",
    (qs) => {
      const spell = (v: bigint, extraZeros: number) => {
        const int = v / 100_000_000n;
        const frac = (v % 100_000_000n).toString().padStart(8, "0").replace(/0+$/, "");
        return `${int}${frac || extraZeros ? "." : ""}${frac}${"0".repeat(frac ? extraZeros : extraZeros)}`;
      };
      const text = qs.map(([v, z], i) => payload(i + 1, spell(v, z))).join("\n");
      expectSame(put("prop.jsonl", text), { lenient: true });
    },
  );
});
