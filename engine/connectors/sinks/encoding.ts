import { formatFixed } from "../../decimal.ts";
import type { WindowSum } from "../../api/datastream.ts";

/**
 * The line a sink writes for a record. A window sum becomes
 * {"key":"BTCUSDT","start":ms,"end":ms,"quantity":"12.34500000","count":N}; bigints anywhere
 * are fixed-point quantities and are written as 8-decimal strings, never as floats.
 */
export function isWindowSum(v: unknown): v is WindowSum {
  const o = v as WindowSum;
  return typeof o === "object" && o !== null && typeof o.field === "string" && typeof o.start === "number" && typeof o.end === "number" && "sum" in o && "key" in o;
}

export function encodeRecord(v: unknown): string {
  if (isWindowSum(v)) {
    const sum = typeof v.sum === "bigint" ? formatFixed(v.sum) : v.sum;
    return JSON.stringify({ key: v.key, start: v.start, end: v.end, [v.field]: sum, count: v.count });
  }
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? formatFixed(x) : x));
}
