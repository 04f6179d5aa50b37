import { toJson } from "./serde.ts";
import { T_ARR, T_BIG, T_F64, T_FALSE, T_INT, T_JSON, T_MAP, T_NULL, T_OBJ, T_SET, T_SHAPE_DEF, T_SHAPED, T_STR, T_TRUE } from "./binary-tags.ts";

/**
 * The binary encoder of snapshot state: primitives and tagged values written straight into one
 * reused buffer. With a sink, a full buffer is handed to it and reused, so a state of any size
 * passes through ~1 MB of memory (no whole-state string, no UTF-8 copy, no framed copy); without
 * one, the buffer grows and `bytes()` copies out exactly what was written.
 *
 * Values follow JSON's semantics (what the previous JSON snapshots kept is what these keep:
 * undefined, functions and symbols vanish from objects and become null in arrays, non-finite
 * numbers become null, toJSON is honoured) but bigints, Maps and Sets are exact and native.
 * Plain objects are written by shape: the first object with a given field list defines it, later
 * ones name its number, so a million `{sum, count}` accumulators carry their field names once.
 */
/** Takes a chunk before the writer reuses its memory; `last`: the payload ends with this one (possibly empty). */
export type ChunkSink = (chunk: Uint8Array, last: boolean) => void;

export const CHUNK_BYTES = 1 << 20;
/** Shapes per stream; objects of further field lists are written with their names. */
const MAX_SHAPES = 64;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

const enc = new TextEncoder();
/** Results up to this size come from the slab (bytes()). */
const SMALL_BYTES = 2_048;
const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabPos = 0;
let shared: { buf: Uint8Array; dv: DataView } | undefined;

export class BinaryWriter {
  /** A plain Uint8Array and a DataView on it: cheaper than Buffer's methods and views on the hot path. */
  buf: Uint8Array;
  private dv: DataView;
  pos = 0;
  /** Bytes handed to the sink so far. */
  flushed = 0;
  private readonly shapes: string[][] = [];
  private readonly keys: string[] = [];

  /** `sink`: where full chunks go (streaming); absent: the buffer grows and `bytes()` returns the result. */
  constructor(private readonly sink?: ChunkSink) {
    // One buffer serves every snapshot in turn: encoding is synchronous and never nested.
    if (!shared) {
      const buf = new Uint8Array(CHUNK_BYTES);
      shared = { buf, dv: new DataView(buf.buffer) };
    }
    this.buf = shared.buf;
    this.dv = shared.dv;
  }

  /** Total bytes written so far (flushed and buffered). */
  get length(): number {
    return this.flushed + this.pos;
  }

  /** Room for `n` more bytes: flushes to the sink, or grows when there is none (or n exceeds a chunk). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.sink && this.pos > 0) this.flush();
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
    if (size <= 64 * CHUNK_BYTES) shared = { buf: next, dv: this.dv }; // kept for the next snapshot, within reason
  }

  private flush(): void {
    this.sink!(this.view(this.pos), false);
    this.flushed += this.pos;
    this.pos = 0;
  }

  /** Hands the rest to the sink, as its last chunk. */
  end(): void {
    if (!this.sink) throw new Error("BinaryWriter.end: only a streaming writer has a sink to end");
    const n = this.pos;
    this.pos = 0;
    this.flushed += n;
    this.sink(this.view(n), true);
  }

  /** A view of the first n bytes: valid until the writer writes again (sinks copy or consume it at once). */
  private view(n: number): Uint8Array {
    return this.buf.subarray(0, n);
  }

  /**
   * A copy of everything written (no sink only). A small result is a view into a shared slab:
   * V8 allocates every typed array over 64 bytes as its own ArrayBuffer (~0.2 µs, the most of
   * encoding a small task snapshot at every checkpoint), a view costs a tenth. Views never
   * overlap; a slab is freed once no view of it is left (at most SLAB_BYTES pinned per live view).
   */
  bytes(): Uint8Array {
    if (this.sink) throw new Error("BinaryWriter.bytes: a streaming writer has no whole result");
    const n = this.pos;
    if (n <= 64 || n > SMALL_BYTES) return this.buf.slice(0, n); // up to 64 bytes V8 allocates on its heap: cheaper still
    if (slabPos + n > SLAB_BYTES) {
      slab = new Uint8Array(SLAB_BYTES);
      slabPos = 0;
    }
    const at = slabPos;
    slabPos += n;
    const out = slab.subarray(at, at + n);
    out.set(this.buf.subarray(0, n));
    return out;
  }

  u8(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Length-prefixed UTF-8; ASCII (nearly every key, symbol and state name) is copied char by char. */
  string(s: string): void {
    const n = s.length;
    if (n < 43) {
      // At most 126 bytes, so the length prefix is one byte whatever the content.
      this.ensure(1 + 3 * n);
      const b = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      const len = i === n ? n : enc.encodeInto(s, b.subarray(start, start + 3 * n)).written;
      b[this.pos] = len;
      this.pos = start + len;
      return;
    }
    const len = Buffer.byteLength(s, "utf8");
    this.varint(len);
    this.ensure(len);
    enc.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
  }

  f64(v: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** A bigint as a length byte and its minimal two's-complement bytes, little-endian: exact at any size. */
  bigint(v: bigint): void {
    if (v >= MIN_I64 && v <= MAX_I64) {
      this.ensure(9);
      const b = this.buf;
      const at = this.pos + 1;
      this.dv.setBigInt64(at, v, true);
      const fill = v < 0n ? 0xff : 0;
      let n = 8;
      // Drop high bytes that only repeat the sign, keeping the sign bit in the top byte left.
      while (n > 1 && b[at + n - 1] === fill && (b[at + n - 2] & 0x80) === (fill & 0x80)) n--;
      b[this.pos] = n;
      this.pos = at + n;
      return;
    }
    const out: number[] = [];
    let x = v;
    for (;;) {
      const byte = Number(x & 0xffn);
      out.push(byte);
      x >>= 8n;
      if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
    }
    this.varint(out.length);
    this.ensure(out.length);
    for (const byte of out) this.buf[this.pos++] = byte;
  }

  /** Any state value, tagged (binary-tags.ts). */
  value(v: unknown): void {
    switch (typeof v) {
      case "string":
        this.u8(T_STR);
        return this.string(v);
      case "number":
        if ((v | 0) === v) {
          this.u8(T_INT);
          // zigzag: small negative numbers stay short
          return this.varint(((v << 1) ^ (v >> 31)) >>> 0);
        }
        if (!Number.isFinite(v)) return this.u8(T_NULL);
        this.u8(T_F64);
        return this.f64(v);
      case "bigint":
        this.u8(T_BIG);
        return this.bigint(v);
      case "boolean":
        return this.u8(v ? T_TRUE : T_FALSE);
      case "object":
        if (v === null) return this.u8(T_NULL);
        return this.object(v);
      default:
        // undefined, functions, symbols: JSON writes null wherever they cannot be left out
        return this.u8(T_NULL);
    }
  }

  private object(v: object): void {
    if (Array.isArray(v)) {
      this.u8(T_ARR);
      this.varint(v.length);
      for (let i = 0; i < v.length; i++) this.value(v[i]);
      return;
    }
    if (v instanceof Map) {
      this.u8(T_MAP);
      this.varint(v.size);
      for (const [k, x] of v) {
        this.value(k);
        this.value(x);
      }
      return;
    }
    if (v instanceof Set) {
      this.u8(T_SET);
      this.varint(v.size);
      for (const x of v) this.value(x);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.toJSON === "function") {
      // Dates and the like: exactly what the JSON codec makes of them.
      this.u8(T_JSON);
      return this.string(toJson(o));
    }
    const keys = this.keys;
    let n = 0;
    for (const k in o) {
      const x = o[k];
      if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
      keys[n++] = k;
    }
    // `keys` is scratch that nested objects overwrite: values are read by the shape's own copy.
    let id = this.shapeOf(keys, n);
    if (id >= 0) {
      this.u8(T_SHAPED);
      this.varint(id);
    } else if (this.shapes.length < MAX_SHAPES) {
      id = this.shapes.push(keys.slice(0, n)) - 1;
      this.u8(T_SHAPE_DEF);
      this.varint(n);
      for (let i = 0; i < n; i++) this.string(keys[i]);
    } else {
      const own = keys.slice(0, n);
      this.u8(T_OBJ);
      this.varint(n);
      for (let i = 0; i < n; i++) {
        this.string(own[i]);
        this.value(o[own[i]]);
      }
      return;
    }
    const names = this.shapes[id];
    for (let i = 0; i < n; i++) this.value(o[names[i]]);
  }

  private shapeOf(keys: string[], n: number): number {
    const shapes = this.shapes;
    outer: for (let s = shapes.length - 1; s >= 0; s--) {
      const sh = shapes[s];
      if (sh.length !== n) continue;
      for (let i = 0; i < n; i++) if (sh[i] !== keys[i]) continue outer;
      return s;
    }
    return -1;
  }
}
