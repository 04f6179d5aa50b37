/**
 * Serialization of state values for snapshots: JSON, with bigints tagged so exact quantities
 * survive a round trip. Snapshots hold data, never functions or class instances.
 */
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

function reviver(_k: string, v: any): unknown {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    if (typeof v.$n === "string" && Object.keys(v).length === 1) return BigInt(v.$n);
    if (Array.isArray(v.$m) && Object.keys(v).length === 1) return new Map(v.$m);
    if (Array.isArray(v.$s) && Object.keys(v).length === 1) return new Set(v.$s);
  }
  return v;
}

/**
 * Same output as JSON.stringify(value, replacer), written by hand: a replacer function called
 * for every key made serialization the largest cost of a checkpoint.
 */
export function toJson(value: unknown): string {
  return write(value);
}

/** Strings that need no escaping are quoted directly: keys, symbols and tags nearly always are. */
const PLAIN = /^[\w .:@#/+-]*$/;
const quote = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

function write(v: unknown): string {
  switch (typeof v) {
    case "string":
      return quote(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return `{"$n":"${v}"}`;
    case "undefined":
    case "function":
    case "symbol":
      return "null";
  }
  if (v === null) return "null";
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) {
      if (i) out += ",";
      const x = v[i];
      out += x === undefined || typeof x === "function" ? "null" : write(x);
    }
    return out + "]";
  }
  if (v instanceof Map) return write({ $m: [...v.entries()] });
  // Sets appear in user function state (CheckpointedFunction lists, window state); JSON would write {}.
  if (v instanceof Set) return write({ $s: [...v] });
  const o = v as Record<string, unknown> & { toJSON?: () => unknown };
  if (typeof o.toJSON === "function") return write(o.toJSON());
  let out = "{";
  let first = true;
  for (const k in o) {
    const x = o[k];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    if (!first) out += ",";
    first = false;
    out += quote(k) + ":" + write(x);
  }
  return out + "}";
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}

export function serialize(value: unknown): Uint8Array {
  return enc.encode(toJson(value));
}

export function deserialize<T>(bytes: Uint8Array): T {
  return fromJson<T>(dec.decode(bytes));
}
