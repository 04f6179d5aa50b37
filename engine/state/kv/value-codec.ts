import { Packr } from "msgpackr";

/**
 * Values of the kv backend's lmdb rows. The window operator's accumulator, a fixed-point sum
 * `{ sum, count }`, is most of what a job writes, so it has a fixed binary form: 18 bytes
 * written and read with a few DataView calls instead of a msgpack record (whose pack and
 * unpack were about 5 % of the spill bench's time). Everything else is msgpack, as before.
 *
 * No msgpack message starts with 0xC1 (the one byte the format never uses; msgpackr writes it
 * only inside bundled strings, which are off here), so a leading 0xC1 marks a fixed form:
 *   C1 01 | sum int64 BE | count float64 BE      sum a bigint within 64 bits
 *   C1 02 | count float64 BE | sign (0|1) | magnitude BE   sum a bigint of any size
 *   C1 03 | sum float64 BE | count float64 BE     sum a number
 * Decoding builds `{ sum, count }` in that key order, as sumAggregate does, so a decoded value
 * is indistinguishable from the one written (same keys, order, types, -0 and NaN included).
 */
const FIXED = 0xc1;
const SUM_INT64 = 0x01;
const SUM_BIG = 0x02;
const SUM_FLOAT = 0x03;
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

// Records keep plain objects apart from Maps (MapState values); the extension carries bigints
// beyond 64 bits. No shared structures: each value describes its own record. copyBuffers:
// lmdb's read buffer is reused, so embedded binary must not point into it.
const packr = new Packr({ useRecords: true, mapsAsObjects: false, useBigIntExtension: true, copyBuffers: true } as ConstructorParameters<typeof Packr>[0]);

/** A plain `{ sum, count }` object with exactly those own keys, in that order. */
function isSumAcc(v: object): v is { sum: bigint | number; count: number } {
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  const o = v as { sum?: unknown; count?: unknown };
  if (typeof o.count !== "number" || (typeof o.sum !== "bigint" && typeof o.sum !== "number")) return false;
  let n = 0;
  for (const k in v) {
    if (k !== (n === 0 ? "sum" : "count") || ++n > 2) return false;
  }
  return n === 2 && Object.getOwnPropertySymbols(v).length === 0;
}

/** Encodes into one reused scratch buffer: valid until the next call (lmdb copies a value during a synchronous put). */
export class ValueWriter {
  private buf = Buffer.allocUnsafe(64);

  encode(v: unknown): Buffer {
    if (typeof v === "object" && v !== null && isSumAcc(v)) {
      const { sum, count } = v;
      if (typeof sum === "number") return this.fixed(SUM_FLOAT, count, sum);
      if (sum >= MIN_I64 && sum <= MAX_I64) return this.fixed(SUM_INT64, count, sum);
      return this.big(count, sum);
    }
    return packr.pack(v);
  }

  private fixed(tag: number, count: number, sum: number | bigint): Buffer {
    const b = this.buf;
    b[0] = FIXED;
    b[1] = tag;
    if (tag === SUM_FLOAT) b.writeDoubleBE(sum as number, 2), b.writeDoubleBE(count, 10);
    else b.writeBigInt64BE(sum as bigint, 2), b.writeDoubleBE(count, 10);
    return b.subarray(0, 18);
  }

  private big(count: number, sum: bigint): Buffer {
    let mag = sum < 0n ? -sum : sum;
    const hex = mag.toString(16);
    const n = (hex.length + 1) >> 1;
    if (this.buf.length < 11 + n) this.buf = Buffer.allocUnsafe(2 * (11 + n));
    const b = this.buf;
    b[0] = FIXED;
    b[1] = SUM_BIG;
    b.writeDoubleBE(count, 2);
    b[10] = sum < 0n ? 1 : 0;
    for (let i = 10 + n; i > 10; i--) (b[i] = Number(mag & 0xffn)), (mag >>= 8n);
    return b.subarray(0, 11 + n);
  }
}

/** Decodes a row's value; `b` may be lmdb's reused read buffer, so nothing returned points into it. */
export function decodeValue(b: Buffer): unknown {
  if (b[0] !== FIXED) return packr.unpack(b);
  switch (b[1]) {
    case SUM_INT64:
      return { sum: b.readBigInt64BE(2), count: b.readDoubleBE(10) };
    case SUM_FLOAT:
      return { sum: b.readDoubleBE(2), count: b.readDoubleBE(10) };
    case SUM_BIG: {
      let mag = 0n;
      for (let i = 11; i < b.length; i++) mag = (mag << 8n) | BigInt(b[i]);
      return { sum: b[10] === 1 ? -mag : mag, count: b.readDoubleBE(2) };
    }
    default:
      throw new Error(`kv backend: unknown fixed value form ${b[1]} (${b.length} bytes)`);
  }
}
