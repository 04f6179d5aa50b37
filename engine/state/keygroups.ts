/**
 * Flink's key-group assignment, bit for bit: keyGroup = murmurHash(javaHashCode(key)) mod
 * maxParallelism, subtask = floor(keyGroup * parallelism / maxParallelism). Matching Flink
 * means a key lands on the same key group here as in a Flink job, and snapshots indexed by
 * key group can be redistributed when the parallelism changes.
 */
import { encodedKeyHash, isEncodedKey } from "../state/key-encoding.ts";

export const DEFAULT_MAX_PARALLELISM = 128;

export type KeyType = string | number;

/** java.lang.String#hashCode / Integer#hashCode / Long#hashCode. */
export function javaHashCode(key: KeyType): number {
  if (typeof key === "string") {
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (Math.imul(31, h) + key.charCodeAt(i)) | 0;
    return h;
  }
  if (Number.isInteger(key) && key >= -2147483648 && key <= 2147483647) return key | 0;
  if (Number.isSafeInteger(key)) {
    const b = BigInt.asUintN(64, BigInt(key));
    return Number(BigInt.asIntN(32, b ^ (b >> 32n)));
  }
  throw new TypeError(`keyBy: key ${String(key)} is not a string or an integer`);
}

/** org.apache.flink.util.MathUtils#murmurHash(int). */
export function murmurHash(code: number): number {
  code = Math.imul(code, 0xcc9e2d51);
  code = (code << 15) | (code >>> 17);
  code = Math.imul(code, 0x1b873593);
  code = (code << 13) | (code >>> 19);
  code = (Math.imul(code, 5) + 0xe6546b64) | 0;
  code ^= 4;
  code ^= code >>> 16;
  code = Math.imul(code, 0x85ebca6b);
  code ^= code >>> 13;
  code = Math.imul(code, 0xc2b2ae35);
  code ^= code >>> 16;
  if (code >= 0) return code;
  return code !== -2147483648 ? -code : 0;
}

export function assignToKeyGroup(key: KeyType, maxParallelism: number): number {
  // Composite keys (engine/state/key-encoding.ts) hash as the Java tuple/value they stand for.
  return murmurHash(isEncodedKey(key) ? encodedKeyHash(key) : javaHashCode(key)) % maxParallelism;
}

export function operatorIndexForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** The contiguous key-group range a subtask owns (Flink's computeKeyGroupRangeForOperatorIndex). */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number; // inclusive
}

export function keyGroupRangeFor(subtask: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  const start = Math.floor((subtask * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((subtask + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}


/**
 * Memoizes key → key group; exchange symbols repeat millions of times, hashing them does not need to.
 * Records come in runs of one key (a source split is one symbol, and a batch keeps its order), so
 * the last key is checked first: an identity compare instead of a Map lookup for most records.
 */
export class KeyGroupCache {
  private readonly cache = new Map<KeyType, number>();
  private lastKey: KeyType | undefined = undefined;
  private lastKg = -1;
  constructor(readonly maxParallelism: number) {}
  keyGroup(key: KeyType): number {
    if (key === this.lastKey) return this.lastKg;
    let kg = this.cache.get(key);
    if (kg === undefined) {
      kg = assignToKeyGroup(key, this.maxParallelism);
      if (this.cache.size < 65_536) this.cache.set(key, kg);
    }
    this.lastKey = key;
    this.lastKg = kg;
    return kg;
  }
}
