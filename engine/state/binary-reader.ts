import { fromJson } from "./serde.ts";
import { T_ARR, T_BIG, T_F64, T_FALSE, T_INT, T_JSON, T_MAP, T_NULL, T_OBJ, T_SET, T_SHAPE_DEF, T_SHAPED, T_STR, T_TRUE } from "./binary-tags.ts";

/** Bytes that do not decode as what the writer wrote (a CRC collision, or a foreign payload). */
export class BinaryDecodeError extends Error {
  override readonly name = "BinaryDecodeError";
}

const scratch = Buffer.alloc(8);

/** Reads what BinaryWriter wrote, in the same order. Every read is bounds-checked. */
export class BinaryReader {
  readonly buf: Buffer;
  pos = 0;
  private readonly shapes: string[][] = [];

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new BinaryDecodeError(`truncated payload: ${n} bytes needed at offset ${this.pos} of ${this.buf.length}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  varint(): number {
    const b = this.buf;
    let p = this.pos;
    let x = b[p++];
    if (x < 0x80 && p <= b.length) {
      this.pos = p;
      return x;
    }
    let v = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (p > b.length || i > 7) throw new BinaryDecodeError(`bad varint at offset ${this.pos}`);
      v += (x & 0x7f) * mul;
      if (x < 0x80) break;
      mul *= 0x80;
      x = b[p++];
    }
    this.pos = p;
    return v;
  }

  string(): string {
    const n = this.varint();
    this.need(n);
    const b = this.buf;
    const start = this.pos;
    this.pos += n;
    if (n < 16) {
      // Short ASCII (keys, names): building the string here beats a native call per string.
      let s = "";
      for (let i = start; i < start + n; i++) {
        const c = b[i];
        if (c >= 0x80) return b.toString("utf8", start, start + n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString("utf8", start, start + n);
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  bigint(): bigint {
    const n = this.varint();
    this.need(n);
    const b = this.buf;
    const at = this.pos;
    this.pos += n;
    if (n === 0) throw new BinaryDecodeError(`empty bigint at offset ${at}`);
    if (n <= 8) {
      const fill = b[at + n - 1] & 0x80 ? 0xff : 0;
      for (let i = 0; i < 8; i++) scratch[i] = i < n ? b[at + i] : fill;
      return scratch.readBigInt64LE(0);
    }
    let v = BigInt.asIntN(8, BigInt(b[at + n - 1]));
    for (let i = n - 2; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]);
    return v;
  }

  value(): unknown {
    const t = this.u8();
    switch (t) {
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT: {
        const z = this.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case T_F64:
        return this.f64();
      case T_BIG:
        return this.bigint();
      case T_STR:
        return this.string();
      case T_ARR: {
        const n = this.count();
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value();
        return out;
      }
      case T_MAP: {
        const n = this.count();
        const m = new Map();
        for (let i = 0; i < n; i++) m.set(this.value(), this.value());
        return m;
      }
      case T_SET: {
        const n = this.count();
        const s = new Set();
        for (let i = 0; i < n; i++) s.add(this.value());
        return s;
      }
      case T_OBJ: {
        const n = this.count();
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) setField(o, this.string(), this.value());
        return o;
      }
      case T_SHAPE_DEF: {
        const n = this.count();
        const names: string[] = [];
        for (let i = 0; i < n; i++) names.push(this.string());
        this.shapes.push(names);
        return this.shaped(names);
      }
      case T_SHAPED: {
        const id = this.varint();
        const names = this.shapes[id];
        if (names === undefined) throw new BinaryDecodeError(`unknown object shape ${id} at offset ${this.pos}`);
        return this.shaped(names);
      }
      case T_JSON:
        return fromJson(this.string());
      default:
        throw new BinaryDecodeError(`unknown value tag ${t} at offset ${this.pos - 1}`);
    }
  }

  /** A count of items that follow, each at least one byte: more than the bytes left means damage, not a huge array. */
  count(): number {
    const n = this.varint();
    if (n > this.buf.length - this.pos) throw new BinaryDecodeError(`count ${n} exceeds the ${this.buf.length - this.pos} bytes left at offset ${this.pos}`);
    return n;
  }

  private shaped(names: string[]): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) setField(o, names[i], this.value());
    return o;
  }
}

/** As JSON.parse does: a field named __proto__ is an own field, never the prototype. */
function setField(o: Record<string, unknown>, name: string, v: unknown): void {
  if (name === "__proto__") Object.defineProperty(o, name, { value: v, enumerable: true, writable: true, configurable: true });
  else o[name] = v;
}
