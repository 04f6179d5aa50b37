import * as fs from "node:fs";
import type { RootDatabase } from "lmdb";

/**
 * A task's lmdb working environment: its directory, the state database and, once the task asked
 * for timers, the timer database beside it.
 */
export interface KvEnv {
  readonly dir: string;
  readonly state: RootDatabase<Buffer, Buffer>;
  timers?: RootDatabase<unknown, Buffer>;
}

/**
 * What a disposed task's handles point at once its environment went back to the pool: any use
 * throws, as a closed environment's would, instead of reading or writing the next task's rows.
 */
export const RELEASED = new Proxy({}, {
  get(_t, key) {
    throw new Error(`kv environment used after its task was disposed (${String(key)})`);
  },
}) as RootDatabase<never, Buffer>;

/** Idle environments kept per local directory; more are closed and removed. */
const MAX_IDLE = 8;

/**
 * Environments of disposed tasks, emptied, for the next task of this thread under the same local
 * directory. Opening the two databases and removing their directory cost about 1 ms a task, and
 * chaos deploys a kv task in most runs (0.8 a run on the swarm): 5-6 % of a run. An environment
 * comes back empty (clearSync), so a task never sees another's rows; what is left when the thread
 * or process exits is closed and removed then. Module state, so one pool per thread.
 */
const idle = new Map<string, KvEnv[]>();
let exitHook = false;

/** An idle environment under `parent` whose directory still exists (a caller may have removed the parent), if any. */
export function takeEnv(parent: string): KvEnv | undefined {
  const list = idle.get(parent);
  for (let env = list?.pop(); env !== undefined; env = list!.pop()) {
    if (fs.existsSync(env.dir)) return env;
    close(env);
  }
  return undefined;
}

/** Empties `env` and keeps it for the next task under `parent` (or closes and removes it when enough are idle). */
export function giveEnv(parent: string, env: KvEnv): void {
  env.state.clearSync();
  env.timers?.clearSync();
  let list = idle.get(parent);
  if (list === undefined) idle.set(parent, (list = []));
  if (list.length >= MAX_IDLE) return closeAndRemove(env);
  list.push(env);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", closeIdleEnvs);
  }
}

/** Closes and removes every idle environment (at exit; tests call it to leave nothing behind). */
export function closeIdleEnvs(): void {
  for (const list of idle.values()) for (const env of list.splice(0)) closeAndRemove(env);
}

export function closeAndRemove(env: KvEnv): void {
  close(env);
  fs.rmSync(env.dir, { recursive: true, force: true });
}

function close(env: KvEnv): void {
  // No async writes are ever queued, so close finishes synchronously; the promise is moot.
  void env.timers?.close().catch(() => undefined);
  void env.state.close().catch(() => undefined);
}
