import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadFixture } from "../../sim/binance/fixtures.ts";
import { tapeToJsonl } from "../../sim/binance/csv.ts";
import { generateTape } from "../../sim/binance/generator.ts";
import { startExchangeServer } from "../../sim/binance/server/server.ts";
import { convertCommand } from "./convert.ts";
import { recordCommand } from "./record.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "flinch-record-"));
  dirs.push(d);
  return d;
};

describe("serve + record round trip", () => {
  it("records <recv_ns> <json> lines that load back to the served tape, trade for trade", async () => {
    const tape = generateTape({ seed: "rec", symbols: ["BTCUSDT", "ETHUSDT"], durationMs: 2 * 60_000, ratePerSec: 10 });
    const server = await startExchangeServer({ tape });
    try {
      const out = join(tmp(), "rec.jsonl");
      const code = await recordCommand(["--url", `${server.wsUrl}/stream?streams=btcusdt@trade/ethusdt@trade`, "--out", out, "--count", String(tape.stats.trades)]);
      expect(code).toBe(0);
      const lines = readFileSync(out, "utf8").trimEnd().split("\n");
      expect(lines).toHaveLength(tape.stats.trades);
      expect(lines[0]).toMatch(/^\d{19} \{"stream":"(btc|eth)usdt@trade","data":\{"e":"trade"/);
      const back = loadFixture(out);
      expect(tapeToJsonl(back)).toBe(tapeToJsonl(tape));
    } finally {
      await server.close();
    }
  });

  it("ends with a message when the server closes the stream at the end of the tape before --count is reached", async () => {
    const tape = generateTape({ seed: "rec-end", symbols: ["BTCUSDT"], durationMs: 60_000, ratePerSec: 10 });
    const server = await startExchangeServer({ tape, endOfTape: "close" });
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      const out = join(tmp(), "rec.jsonl");
      const code = await recordCommand(["--url", `${server.wsUrl}/ws/btcusdt@trade`, "--out", out, "--count", String(tape.stats.trades + 100)]);
      expect(code).toBe(0);
      expect(readFileSync(out, "utf8").trimEnd().split("\n")).toHaveLength(tape.stats.trades);
      expect(log.mock.calls.map((c) => String(c[0]))).toEqual([
        `flinch record: the server closed the stream (1000 "end of tape") after ${tape.stats.trades} messages; --count ${tape.stats.trades + 100} not reached; ${tape.stats.trades} messages to ${out}`,
      ]);
    } finally {
      log.mockRestore();
      await server.close();
    }
  });

  it("record and convert refuse bad usage with exit code 2", async () => {
    expect(await recordCommand(["--url", "http://x", "--out", "f", "--count", "1"])).toBe(2);
    expect(await recordCommand(["--url", "ws://x", "--out", "f"])).toBe(2);
    expect(await convertCommand(["a.csv"])).toBe(2);
    const d = tmp();
    const csv = join(d, "BTCUSDT-trades-2024-08-08.csv");
    writeFileSync(csv, "1,61837.63,0.02,1236.7526,1723161255342,true,true\n2,oops,0.02,1,1723161255343,true,true\n");
    expect(await convertCommand([csv, "--symbol", "BTCUSDT", "--out", join(d, "o.jsonl")])).toBe(2);
    writeFileSync(csv, "1,61837.63,0.02,1236.7526,1723161255342,true,true\n2,61837.64,0.01,618.3764,1723161255343,false,true\n");
    expect(await convertCommand([csv, "--symbol", "BTCUSDT", "--out", join(d, "o.jsonl")])).toBe(0);
    expect(loadFixture(join(d, "o.jsonl")).stats.trades).toBe(2);
  });
});
