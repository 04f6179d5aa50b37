import type { KeyType } from "../keygroups.ts";
import type { Namespace } from "../keyed-state.ts";

/**
 * Binary keys of the embedded-KV backend: `keyGroup (u16 BE) | key | namespace | state name`.
 *
 * The key group leads so that a subtask's key-group range (and each key group, for rescaling
 * and incremental checkpoints) is one contiguous lmdb range scan. Each variable part is
 * self-delimiting (a type tag, then a fixed-width number or an escaped, terminated string),
 * so the concatenation is injective and decodable. Parts also sort by value (numbers before
 * strings, numbers numerically, strings by code point) so scans have a meaningful order.
 */
export type KeyPart = KeyType | Namespace;

export interface DecodedStateKey {
  keyGroup: number;
  key: KeyType;
  namespace: Namespace;
  name: string;
}

export const MAX_KEY_GROUP = 0xffff;
const TAG_NUMBER = 0x01;
const TAG_STRING = 0x02;
// Inside a string, 0x00 never stands for itself: 00 01 ends the string, 00 FF is U+0000.
// 00 01 < 00 FF < any other byte keeps "a" < "a\0" < "a\x01".
const END = 0x01;
const ESCAPED_ZERO = 0xff;
/** A lone surrogate: TextEncoder would turn it into U+FFFD, which would merge distinct keys. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Appends parts into one growing scratch buffer, so the hot path allocates only the result. */
export class KeyWriter {
  buf: Buffer = Buffer.allocUnsafe(128);
  pos = 0;

  reset(): this {
    this.pos = 0;
    return this;
  }
  /** Writes into `target` from `pos` on (lmdb's key buffer); a part that does not fit moves the writer to a buffer of its own. */
  into(target: Buffer, pos: number): this {
    this.buf = target;
    this.pos = pos;
    return this;
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  keyGroup(kg: number): this {
    if (!Number.isInteger(kg) || kg < 0 || kg > MAX_KEY_GROUP) throw new RangeError(`key group ${kg} does not fit in 2 bytes`);
    this.ensure(2);
    this.buf[this.pos++] = kg >>> 8;
    this.buf[this.pos++] = kg & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    const n = b.length;
    this.ensure(n);
    // A key's suffix is a few tens of bytes: a loop beats the native copy's call.
    if (n <= 64) {
      const t = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) t[p + i] = b[i];
    } else this.buf.set(b, this.pos);
    this.pos += n;
    return this;
  }
  part(v: KeyPart): this {
    if (typeof v === "number") return this.number(v);
    if (typeof v === "string") return this.string(v);
    throw new TypeError(`state key part ${String(v)} is a ${typeof v}, not a string or a number`);
  }
  private number(v: number): this {
    this.ensure(9);
    const b = this.buf;
    const p = this.pos;
    b[p] = TAG_NUMBER;
    // -0 and 0 are one Map key on the heap backend, and so one key here; likewise every NaN.
    b.writeDoubleBE(v === 0 ? 0 : Number.isNaN(v) ? NaN : v, p + 1);
    // IEEE-754 bits sort like the numbers once negatives are inverted and positives get the sign bit.
    if (b[p + 1] & 0x80) for (let i = 1; i <= 8; i++) b[p + i] ^= 0xff;
    else b[p + 1] ^= 0x80;
    this.pos = p + 9;
    return this;
  }
  private string(s: string): this {
    this.ensure(3 + s.length * 3);
    this.buf[this.pos++] = TAG_STRING;
    if (!this.ascii(s)) {
      if (s.indexOf("\0") < 0 && !LONE_SURROGATE.test(s)) this.pos += this.buf.write(s, this.pos, "utf8");
      else this.wtf8(s);
    }
    this.buf[this.pos++] = 0;
    this.buf[this.pos++] = END;
    return this;
  }
  /**
   * A short string of U+0001..U+007F (symbols, most keys) byte by byte: its UTF-8 is itself,
   * and a loop is cheaper than a native write plus the surrogate check. False (nothing written) else.
   */
  private ascii(s: string): boolean {
    const n = s.length;
    if (n > 32) return false;
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 0 || c > 0x7f) return false;
      b[p + i] = c;
    }
    this.pos = p + n;
    return true;
  }
  /** WTF-8 (UTF-8 that also encodes lone surrogates), with U+0000 escaped. */
  private wtf8(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c === 0) (b[p++] = 0), (b[p++] = ESCAPED_ZERO);
      else if (c < 0x80) b[p++] = c;
      else if (c < 0x800) (b[p++] = 0xc0 | (c >> 6)), (b[p++] = 0x80 | (c & 63));
      else if (c < 0x10000) (b[p++] = 0xe0 | (c >> 12)), (b[p++] = 0x80 | ((c >> 6) & 63)), (b[p++] = 0x80 | (c & 63));
      else (b[p++] = 0xf0 | (c >> 18)), (b[p++] = 0x80 | ((c >> 12) & 63)), (b[p++] = 0x80 | ((c >> 6) & 63)), (b[p++] = 0x80 | (c & 63));
    }
    this.pos = p;
  }
  /** A copy of what was written: lmdb may keep the key, and the scratch buffer is reused. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

const shared = new KeyWriter();

export function encodePart(v: KeyPart): Buffer {
  return shared.reset().part(v).take();
}

export function encodeStateKey(kg: number, key: KeyType, ns: Namespace, name: string): Buffer {
  return shared.reset().keyGroup(kg).part(key).part(ns).part(name).take();
}

/** First key of key group `kg`; `keyGroupPrefix(end + 1)` is the exclusive end of a range scan. */
export function keyGroupPrefix(kg: number): Buffer {
  if (kg === MAX_KEY_GROUP + 1) return Buffer.from([0xff, 0xff, 0xff]);
  return shared.reset().keyGroup(kg).take();
}

export function keyGroupOf(bytes: Uint8Array): number {
  return (bytes[0] << 8) | bytes[1];
}

function readPart(b: Uint8Array, p: number): [KeyPart, number] {
  const tag = b[p];
  if (tag === TAG_NUMBER) {
    if (p + 9 > b.length) throw new Error("truncated number in state key");
    const t = Buffer.from(b.subarray(p + 1, p + 9));
    if (t[0] & 0x80) t[0] ^= 0x80;
    else for (let i = 0; i < 8; i++) t[i] ^= 0xff;
    return [t.readDoubleBE(0), p + 9];
  }
  if (tag !== TAG_STRING) throw new Error(`bad tag ${tag} in state key`);
  const chunks: Uint8Array[] = [];
  let start = p + 1;
  for (let i = start; i < b.length; i++) {
    if (b[i] !== 0) continue;
    chunks.push(b.subarray(start, i));
    if (b[i + 1] === END) return [decodeWtf8(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)), i + 2];
    if (b[i + 1] !== ESCAPED_ZERO) throw new Error("bad escape in state key");
    chunks.push(ZERO);
    start = ++i + 1;
  }
  throw new Error("unterminated string in state key");
}
const ZERO = new Uint8Array([0]);

function decodeWtf8(b: Uint8Array): string {
  // 0xED starts the only 3-byte sequences that can carry a surrogate; without one, plain UTF-8.
  if (b.indexOf(0xed) < 0) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
  let s = "";
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let cp: number;
    if (c < 0x80) (cp = c), (i += 1);
    else if (c < 0xe0) (cp = ((c & 31) << 6) | (b[i + 1] & 63)), (i += 2);
    else if (c < 0xf0) (cp = ((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63)), (i += 3);
    else (cp = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63)), (i += 4);
    s += String.fromCodePoint(cp);
  }
  return s;
}

export function decodeStateKey(bytes: Uint8Array): DecodedStateKey {
  if (bytes.length < 2) throw new Error("state key shorter than its key group");
  const [key, p1] = readPart(bytes, 2);
  const [namespace, p2] = readPart(bytes, p1);
  const [name, p3] = readPart(bytes, p2);
  if (typeof name !== "string" || p3 !== bytes.length) throw new Error("malformed state key");
  return { keyGroup: keyGroupOf(bytes), key, namespace, name };
}

/** Byte order, as lmdb sorts keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
