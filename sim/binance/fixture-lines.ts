import type { Stats } from "node:fs";
import { decodeMessage, type DecodedMessage } from "../../engine/connectors/binance/codec.ts";

/**
 * What the fixture loader (fixtures.ts) and the byte-scanning trade reader (trade-reader.ts) decide the
 * same way: the format of a file, a line's JSON, why a file held no trades, what a non-file is.
 */

/** A problem with one line; becomes a FixtureError or a quarantine entry. */
export class LineError extends Error {}

export type Format = "json" | "recv" | "csv";

export function emptyReason(lines: number, skipped: Record<string, number>, quarantined: number): string {
  if (lines === 0) return "no trades: the file is empty";
  const parts = Object.entries(skipped).map(([k, n]) => `${n} ${k}`);
  if (quarantined) parts.push(`${quarantined} quarantined`);
  return `no trades among ${lines} lines (${parts.join(", ")})`;
}

export function jsonLine(line: string, recvPrefixed: boolean): DecodedMessage & { recv?: string } {
  let json = line;
  let recv: string | undefined;
  if (recvPrefixed) {
    const sp = line.indexOf(" ");
    recv = sp > 0 ? line.slice(0, sp) : "";
    if (!/^\d{1,20}$/.test(recv)) throw new LineError("expected `<receive time ns> <json>`");
    json = line.slice(sp + 1);
  }
  let msg: unknown;
  try {
    msg = JSON.parse(json);
  } catch (e) {
    throw new LineError(`malformed JSON: ${(e as Error).message}`);
  }
  const d = decodeMessage(msg);
  return recv === undefined ? d : { ...d, recv };
}

export function detect(line: string, path: string): Format {
  if (line.startsWith("{") || line.startsWith("[")) return "json";
  if (/^\d+ [{[]/.test(line)) return "recv";
  if (/\.csv(\.gz)?$/i.test(path)) return "csv";
  // A JSON-named file is JSON even when its first line is garbage that happens to hold a comma.
  if (/\.(jsonl|ndjson|json|txt)(\.gz)?$/i.test(path)) return "json";
  if (/^(\d+|id),/i.test(line)) return "csv";
  return "json"; // unrecognisable: let the JSON parser say what is wrong with it
}

export function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSocket()) return "a socket";
  return "not a file";
}
