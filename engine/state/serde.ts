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
  }
  return v;
}

/**
 * Same output as JSON.stringify(value, replacer), written by hand: a replacer function called
 * for every key made serialization the largest cost of a checkpoint.
 */
export function toJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

function write(v: unknown, out: string[]): void {
  switch (typeof v) {
    case "string":
      out.push(JSON.stringify(v));
      return;
    case "number":
      out.push(Number.isFinite(v) ? String(v) : "null");
      return;
    case "boolean":
      out.push(v ? "true" : "false");
      return;
    case "bigint":
      out.push(`{"$n":"${v}"}`);
      return;
    case "undefined":
    case "function":
    case "symbol":
      out.push("null");
      return;
  }
  if (v === null) {
    out.push("null");
    return;
  }
  if (Array.isArray(v)) {
    out.push("[");
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(",");
      const x = v[i];
      write(x === undefined || typeof x === "function" ? null : x, out);
    }
    out.push("]");
    return;
  }
  if (v instanceof Map) {
    write({ $m: [...v.entries()] }, out);
    return;
  }
  const o = v as Record<string, unknown> & { toJSON?: () => unknown };
  if (typeof o.toJSON === "function") return write(o.toJSON(), out);
  out.push("{");
  let first = true;
  for (const k in o) {
    const x = o[k];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    if (!first) out.push(",");
    first = false;
    out.push(JSON.stringify(k), ":");
    write(x, out);
  }
  out.push("}");
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
