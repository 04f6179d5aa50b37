/**
 * Keys of any serializable type (tuples, bigints, booleans, plain objects), as Flink allows
 * `keyBy` to return a Tuple or a POJO. Inside the engine a key stays a string or a number
 * (state tables, the kv codec, timers and snapshots all index by it), so every other key is
 * carried as one stable string: a marker character, then a canonical JSON text (object
 * fields sorted, bigints tagged). Plain string and integer keys pass through untouched, so
 * their key groups (Flink-exact murmur of String#hashCode / Integer#hashCode) never change.
 *
 * Key groups of encoded keys come from the Java hashCode Flink would use: a Tuple's
 * (31 * h + field hash, so a Tuple1 hashes as its field), Long, Double, Boolean; anything
 * without a Java counterpart hashes its canonical text as a String.
 */
export type EncodedKey = string | number;

/** U+0001 cannot begin a JSON text, so the decoded form is unambiguous. */
const MARK = "\u0001";
const MARK_CODE = 1;

export class KeyEncodingError extends TypeError {
  override readonly name = "KeyEncodingError";
}

/** A key as the engine stores and hashes it. Allocation-free for string and safe-integer keys. */
export function encodeKey(key: unknown): EncodedKey {
  if (typeof key === "string") return key.charCodeAt(0) === MARK_CODE ? MARK + JSON.stringify(key) : key;
  // -0 is the key 0: JS maps (the heap backend's state) already treat them as one key.
  if (typeof key === "number" && Number.isSafeInteger(key)) return key === 0 ? 0 : key;
  return MARK + canonical(key, "key");
}

/** True for keys that `encodeKey` wrapped (composite or non-primitive). */
export function isEncodedKey(key: EncodedKey): key is string {
  return typeof key === "string" && key.charCodeAt(0) === MARK_CODE;
}

/** The key as the user's keyBy returned it (a fresh copy for composite keys). */
export function decodeKey(key: EncodedKey): unknown {
  if (!isEncodedKey(key)) return key;
  return JSON.parse(key.slice(1), (_k, v) => (v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.$n === "string" && Object.keys(v).length === 1 ? BigInt(v.$n) : v));
}

function canonical(v: unknown, path: string): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      if (!Number.isFinite(v)) throw new KeyEncodingError(`keyBy: ${path} is ${v}; keys must be finite numbers`);
      return Object.is(v, -0) ? "0" : String(v);
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return `{"$n":"${v}"}`;
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) return `[${v.map((x, i) => canonical(x, `${path}[${i}]`)).join(",")}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new KeyEncodingError(`keyBy: ${path} is a ${proto?.constructor?.name ?? "class"} instance; keys must be strings, numbers, bigints, booleans, arrays (tuples) or plain objects`);
      const o = v as Record<string, unknown>;
      const fields = Object.keys(o).filter((k) => o[k] !== undefined).sort();
      return `{${fields.map((k) => `${JSON.stringify(k)}:${canonical(o[k], `${path}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new KeyEncodingError(`keyBy: ${path} is ${typeof v}; keys must be serializable (strings, numbers, bigints, booleans, arrays, plain objects)`);
  }
}

/** java.lang.String#hashCode. */
function stringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

function longHash(b: bigint): number {
  const u = BigInt.asUintN(64, b);
  return Number(BigInt.asIntN(32, u ^ (u >> 32n)));
}

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

/** Java hashCode of a decoded key value: Tuple, Integer/Long, Double, Boolean, String; others by their canonical text. */
export function javaValueHash(v: unknown): number {
  switch (typeof v) {
    case "string":
      return stringHash(v);
    case "number":
      if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v | 0;
      if (Number.isSafeInteger(v)) return longHash(BigInt(v));
      // Double#hashCode: bits ^ (bits >>> 32) (0.0 for -0.0, as the encoding normalizes it).
      f64[0] = v;
      return (i32[0] ^ i32[1]) | 0;
    case "boolean":
      return v ? 1231 : 1237;
    case "bigint":
      return v >= -(1n << 63n) && v < 1n << 63n ? longHash(v) : stringHash(v.toString());
    case "object":
      if (v === null) return 0;
      if (Array.isArray(v)) {
        // org.apache.flink.api.java.tuple.TupleN#hashCode
        let h = 0;
        for (let i = 0; i < v.length; i++) h = i === 0 ? javaValueHash(v[0]) : (Math.imul(31, h) + javaValueHash(v[i])) | 0;
        return h;
      }
      return stringHash(canonical(v, "key"));
    default:
      return 0;
  }
}

/** The hash a key group is computed from, for an encoded key. */
export function encodedKeyHash(key: string): number {
  return javaValueHash(decodeKey(key));
}
