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

/**
 * Exactly the enumerable string keys `sum` then `count`, on a plain object (the caller checked
 * their types). Symbol keys are not looked for: msgpack drops them too (it packs string keys),
 * so the fixed form loses nothing the other would keep, and the check allocated an array per value.
 */
function isSumAccShape(v: object): boolean {
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  let n = 0;
  for (const k in v) {
    if (k !== (n === 0 ? "sum" : "count") || ++n > 2) return false;
  }
  return n === 2;
}

// The numbers go through typed arrays over one 16-byte buffer: a store each, no BigInt
// arithmetic (Buffer#writeBigInt64BE splits the bigint with four BigInt operations).
const scratch = new ArrayBuffer(16);
const i64 = new BigInt64Array(scratch);
const f64 = new Float64Array(scratch);
const u8 = new Uint8Array(scratch);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies the scratch's 16 bytes to `b` at 2, big-endian per 8-byte number. */
function put16(b: Buffer): void {
  if (LE) for (let i = 0; i < 8; i++) (b[9 - i] = u8[i]), (b[17 - i] = u8[8 + i]);
  else for (let i = 0; i < 16; i++) b[2 + i] = u8[i];
}
function get16(b: Buffer): void {
  if (LE) for (let i = 0; i < 8; i++) (u8[i] = b[9 - i]), (u8[8 + i] = b[17 - i]);
  else for (let i = 0; i < 16; i++) u8[i] = b[2 + i];
}

/**
 * Encodes into buffers it reuses: a result is valid until the next call (lmdb copies a value
 * during a synchronous put). The fixed forms reuse one exact-size buffer, so encoding a sum
 * allocates nothing, not even a view.
 */
export class ValueWriter {
  private readonly fixed18 = Buffer.alloc(18);
  private buf = Buffer.allocUnsafe(64);

  encode(v: unknown): Buffer {
    if (typeof v === "object" && v !== null) {
      const { sum, count } = v as { sum?: unknown; count?: unknown };
      if (typeof count === "number" && (typeof sum === "bigint" || typeof sum === "number") && isSumAccShape(v)) {
        if (typeof sum === "number") f64[0] = sum;
        else if (sum >= MIN_I64 && sum <= MAX_I64) i64[0] = sum;
        else return this.big(count, sum);
        return this.fixed(typeof sum === "number" ? SUM_FLOAT : SUM_INT64, count);
      }
    }
    return packr.pack(v);
  }

  /** The sum is already in the scratch's first 8 bytes. */
  private fixed(tag: number, count: number): Buffer {
    const b = this.fixed18;
    f64[1] = count;
    b[0] = FIXED;
    b[1] = tag;
    put16(b);
    return b;
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
      get16(b);
      return { sum: i64[0], count: f64[1] };
    case SUM_FLOAT:
      get16(b);
      return { sum: f64[0], count: f64[1] };
    case SUM_BIG: {
      let mag = 0n;
      for (let i = 11; i < b.length; i++) mag = (mag << 8n) | BigInt(b[i]);
      return { sum: b[10] === 1 ? -mag : mag, count: b.readDoubleBE(2) };
    }
    default:
      throw new Error(`kv backend: unknown fixed value form ${b[1]} (${b.length} bytes)`);
  }
}
