/**
 * Serialization of state values for snapshots: JSON, with bigints tagged so exact quantities
 * survive a round trip. Snapshots hold data, never functions or class instances.
 */
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return { $n: v.toString() };
  if (v instanceof Map) return { $m: [...v.entries()] };
  return v;
}

function reviver(_k: string, v: any): unknown {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    if (typeof v.$n === "string" && Object.keys(v).length === 1) return BigInt(v.$n);
    if (Array.isArray(v.$m) && Object.keys(v).length === 1) return new Map(v.$m);
  }
  return v;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer);
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
