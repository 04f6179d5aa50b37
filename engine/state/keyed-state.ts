import type { KeyGroupRange, KeyType } from "./keygroups.ts";
import type { Namespace, TimerQueue } from "./timers.ts";

/**
 * Flink's keyed state API. Every handle is scoped by the backend's current key and by the
 * namespace the handle is set to (a window's start for window state; VOID otherwise).
 */
export type { Namespace };
export const VOID_NAMESPACE: Namespace = "";

export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  /** Returns true when this call created the accumulator (the window operator registers its timer once). */
  add(value: IN): boolean;
  clear(): void;
}

export interface ListState<T> {
  get(): readonly T[];
  add(value: T): void;
  update(values: readonly T[]): void;
  clear(): void;
}

export interface MapState<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  remove(key: K): void;
  contains(key: K): boolean;
  entries(): [K, V][];
  isEmpty(): boolean;
  clear(): void;
}

/** Handles that the runtime re-points at a namespace (window) before use. */
export interface Namespaced {
  setCurrentNamespace(ns: Namespace): void;
}

export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, acc: ACC): ACC;
  getResult(acc: ACC): OUT;
  merge(a: ACC, b: ACC): ACC;
}

/** One key group's state, as a snapshot holds it: plain data, independent of the backend. */
export interface KeyGroupState {
  readonly keyGroup: number;
  /** state name -> [key, namespace, value] rows */
  readonly states: Record<string, [KeyType, Namespace, unknown][]>;
}

export interface KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  setCurrentKey(key: KeyType, keyGroup: number): void;
  currentKey(): KeyType;
  currentKeyGroup(): number;
  getValueState<T>(name: string): ValueState<T> & Namespaced;
  getReducingState<T>(name: string, reduce: (a: T, b: T) => T): ReducingState<T> & Namespaced;
  getAggregatingState<IN, ACC, OUT>(name: string, fn: AggregateFunction<IN, ACC, OUT>): AggregatingState<IN, OUT> & Namespaced;
  getListState<T>(name: string): ListState<T> & Namespaced;
  getMapState<K, V>(name: string): MapState<K, V> & Namespaced;
  /** Every (key, keyGroup, namespace) that holds state under `name`, in a stable order. */
  entries(name: string): [KeyType, number, Namespace][];
  /** Synchronous phase of a snapshot: a copy that later processing cannot change. */
  snapshot(): KeyGroupState[];
  /** Loads the key groups of `states` that fall in this backend's range; others are ignored. */
  restore(states: Iterable<KeyGroupState>): void;
  /** Number of (key, namespace, state) entries: the state size statistics report. */
  size(): number;
  /** Timers kept by the backend itself (lmdb); without it operators keep them on the heap. */
  createTimerService?(): TimerQueue;
  dispose(): void;
}

/** The current key and key group, which every backend scopes its state handles by. */
export abstract class CurrentKeyScope {
  protected key: KeyType = "";
  protected kg = -1;
  abstract readonly keyGroupRange: KeyGroupRange;

  setCurrentKey(key: KeyType, keyGroup: number): void {
    if (keyGroup < this.keyGroupRange.start || keyGroup > this.keyGroupRange.end) {
      throw new Error(`key ${JSON.stringify(key)} (key group ${keyGroup}) is outside this subtask's range ${this.keyGroupRange.start}..${this.keyGroupRange.end}`);
    }
    this.key = key;
    this.kg = keyGroup;
  }
  currentKey(): KeyType {
    return this.key;
  }
  currentKeyGroup(): number {
    return this.kg;
  }
}
