import type {
  AggregatingStateDescriptor, FunctionInitializationContext, FunctionLifecycle, KeyedStateStore, ListStateDescriptor, MapStateDescriptor,
  OperatorStateStore, ReducingStateDescriptor, RuntimeContext, ValueStateDescriptor,
} from "../api/functions.ts";
import type { KeyedStateBackend, ListState, Namespace, Namespaced } from "../state/keyed-state.ts";
import { VOID_NAMESPACE } from "../state/keyed-state.ts";
import type { OperatorContext } from "./operator.ts";

/**
 * What user functions see of the runtime: keyed state stores over the operator's backend (per
 * key, and per window for window state), operator list state for CheckpointedFunction, and the
 * RuntimeContext handed to rich functions.
 */
type Descriptor = { readonly kind: string; readonly name: string };

/** Keyed state handles by descriptor name, re-pointed at `namespace()` on every lookup. */
export class BackendKeyedStore implements KeyedStateStore {
  private readonly handles = new Map<string, { kind: string; h: Namespaced }>();
  constructor(private readonly backend: KeyedStateBackend | undefined, private readonly namespace: () => Namespace, private readonly owner: string) {}

  private handle<H extends Namespaced>(d: Descriptor, make: (b: KeyedStateBackend) => H): H {
    const b = this.backend;
    if (!b) throw new Error(`${this.owner}: keyed state (${d.kind} "${d.name}") is only available on a keyed stream: use keyBy(...) first`);
    let e = this.handles.get(d.name);
    if (!e) this.handles.set(d.name, (e = { kind: d.kind, h: make(b) }));
    else if (e.kind !== d.kind) throw new Error(`${this.owner}: state "${d.name}" is used as ${e.kind} state and as ${d.kind} state`);
    e.h.setCurrentNamespace(this.namespace());
    return e.h as H;
  }

  getState<T>(d: ValueStateDescriptor<T>) {
    const h = this.handle(d, (b) => b.getValueState<T>(`user:${d.name}`));
    if (d.defaultValue === undefined) return h;
    const dflt = d.defaultValue;
    return { value: () => h.value() ?? dflt, update: (v: T) => h.update(v), clear: () => h.clear() };
  }
  getListState<T>(d: ListStateDescriptor<T>) {
    return this.handle(d, (b) => b.getListState<T>(`user:${d.name}`));
  }
  getMapState<K, V>(d: MapStateDescriptor<K, V>) {
    return this.handle(d, (b) => b.getMapState<K, V>(`user:${d.name}`));
  }
  getReducingState<T>(d: ReducingStateDescriptor<T>) {
    return this.handle(d, (b) => b.getReducingState<T>(`user:${d.name}`, d.reduce));
  }
  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>) {
    return this.handle(d, (b) => b.getAggregatingState(`user:${d.name}`, d.fn));
  }
}

export function runtimeContext(ctx: OperatorContext, attempt: number, keyed: KeyedStateStore): RuntimeContext {
  return {
    getTaskName: () => ctx.operatorName,
    getIndexOfThisSubtask: () => ctx.subtaskIndex,
    getNumberOfParallelSubtasks: () => ctx.parallelism,
    getMaxNumberOfParallelSubtasks: () => ctx.maxParallelism,
    getAttemptNumber: () => attempt,
    getState: (d) => keyed.getState(d),
    getListState: (d) => keyed.getListState(d),
    getMapState: (d) => keyed.getMapState(d),
    getReducingState: (d) => keyed.getReducingState(d),
    getAggregatingState: (d) => keyed.getAggregatingState(d),
  };
}

/** setRuntimeContext + open, for any function that has them. */
export function openFunction(fn: FunctionLifecycle, ctx: OperatorContext, attempt: number): KeyedStateStore {
  const store = new BackendKeyedStore(ctx.keyedBackend, () => VOID_NAMESPACE, ctx.operatorName);
  fn.setRuntimeContext?.(runtimeContext(ctx, attempt, store));
  fn.open?.();
  return store;
}

// ---- operator list state ----

/** One entry of operator list state as a snapshot holds it: which state, from which old subtask. */
interface ListEntry {
  readonly s: string;
  readonly union: boolean;
  readonly from: number;
  readonly of: number;
  readonly v: unknown;
}

class SimpleListState<T> implements ListState<T> {
  values: T[] = [];
  get(): readonly T[] {
    return this.values;
  }
  add(v: T): void {
    this.values.push(v);
  }
  update(vs: readonly T[]): void {
    this.values = vs.slice();
  }
  clear(): void {
    this.values = [];
  }
}

/**
 * Flink's DefaultOperatorStateBackend, for one function: named list states kept in memory,
 * written into the operator's snapshot list. On restore, split state goes back to the subtask
 * that wrote it when the parallelism is unchanged, else in contiguous shares (Flink's
 * round-robin repartitioner); union state gives every subtask all entries.
 */
export class FunctionOperatorState implements OperatorStateStore, FunctionInitializationContext {
  private readonly states = new Map<string, { union: boolean; st: SimpleListState<unknown> }>();
  private restoredEntries: ListEntry[] = [];
  private restored = false;
  private restoredId?: number;

  constructor(private readonly subtask: number, private readonly parallelism: number) {}

  /** `checkpointId` is unknown to source readers, which are restored without it. */
  restore(checkpointId: number | undefined, listUnion: readonly unknown[]): void {
    this.restored = true;
    this.restoredId = checkpointId;
    this.restoredEntries = listUnion as ListEntry[];
  }

  isRestored(): boolean {
    return this.restored;
  }
  getRestoredCheckpointId(): number | undefined {
    return this.restoredId;
  }
  getOperatorStateStore(): OperatorStateStore {
    return this;
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.state(d.name, false) as ListState<T>;
  }
  getUnionListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.state(d.name, true) as ListState<T>;
  }

  private state(name: string, union: boolean): SimpleListState<unknown> {
    const e = this.states.get(name);
    if (e) {
      if (e.union !== union) throw new Error(`operator state "${name}" is requested both as union and as split list state`);
      return e.st;
    }
    const st = new SimpleListState<unknown>();
    st.values = this.share(name, union);
    this.states.set(name, { union, st });
    return st;
  }

  private share(name: string, union: boolean): unknown[] {
    const all = this.restoredEntries.filter((e) => e.s === name);
    if (union) return all.map((e) => e.v);
    if (all.every((e) => e.of === this.parallelism)) return all.filter((e) => e.from === this.subtask).map((e) => e.v);
    const lo = Math.floor((this.subtask * all.length) / this.parallelism);
    const hi = Math.floor(((this.subtask + 1) * all.length) / this.parallelism);
    return all.slice(lo, hi).map((e) => e.v);
  }

  /** A deep copy: the snapshot is written later (async phase), and the function keeps mutating its values. */
  snapshot(): ListEntry[] {
    const out: ListEntry[] = [];
    for (const [s, { union, st }] of this.states) for (const v of st.values) out.push({ s, union, from: this.subtask, of: this.parallelism, v: structuredClone(v) });
    return out;
  }
}

// ---- one copy of a user function per subtask and attempt ----

function copyDeep(v: unknown, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== "object") return v; // primitives, and functions (shared, like static code)
  const done = seen.get(v);
  if (done !== undefined) return done;
  if (Array.isArray(v)) {
    const a: unknown[] = [];
    seen.set(v, a);
    for (const x of v) a.push(copyDeep(x, seen));
    return a;
  }
  if (v instanceof Map) {
    const m = new Map();
    seen.set(v, m);
    for (const [k, x] of v) m.set(copyDeep(k, seen), copyDeep(x, seen));
    return m;
  }
  if (v instanceof Set) {
    const s = new Set();
    seen.set(v, s);
    for (const x of v) s.add(copyDeep(x, seen));
    return s;
  }
  if (v instanceof Date) return new Date(v.getTime());
  if (ArrayBuffer.isView(v)) return (v as unknown as { slice(): unknown }).slice();
  const o = Object.create(Object.getPrototypeOf(v));
  seen.set(v, o);
  for (const k of Reflect.ownKeys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, k)!;
    if ("value" in d) d.value = copyDeep(d.value, seen);
    Object.defineProperty(o, k, d);
  }
  return o;
}

/**
 * A fresh copy of a user function for one subtask and attempt. Flink serializes functions
 * into the job, so each parallel instance and each restart starts from the function as the
 * user built it: fields set in `open` or counted in `invoke` are never shared between
 * subtasks, and a restart cannot see what the failed attempt left in memory. Data fields are
 * deep-copied (prototypes kept); fields holding functions are shared, as static code is.
 */
export function instantiate<F>(fn: F): F {
  return copyDeep(fn, new Map()) as F;
}
