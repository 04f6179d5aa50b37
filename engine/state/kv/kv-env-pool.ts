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

/** Idle environments kept in all (each stays open: its file descriptors and memory maps); the oldest beyond this is closed and removed. */
const MAX_IDLE = 8;

/**
 * Environments of disposed tasks, emptied, for the next task of this thread under the same local
 * directory. Opening the two databases and removing their directory cost about 1 ms a task, and
 * chaos deploys a kv task in most runs (0.8 a run on the swarm). An environment comes back empty
 * (clearSync), so a task never sees another's rows. What is idle when a campaign ends, or the
 * thread or process exits, is closed and removed then. Module state, so one pool per thread;
 * oldest first.
 */
const idle: { parent: string; env: KvEnv }[] = [];
let exitHook = false;

/** An idle environment under `parent` whose directory still exists (a caller may have removed the parent), if any. */
export function takeEnv(parent: string): KvEnv | undefined {
  for (let i = idle.length - 1; i >= 0; i--) {
    if (idle[i]!.parent !== parent) continue;
    const { env } = idle.splice(i, 1)[0]!;
    if (fs.existsSync(env.dir)) return env;
    close(env);
  }
  return undefined;
}

/** Empties `env` and keeps it for the next task under `parent`. */
export function giveEnv(parent: string, env: KvEnv): void {
  env.state.clearSync();
  env.timers?.clearSync();
  idle.push({ parent, env });
  if (idle.length > MAX_IDLE) closeAndRemove(idle.shift()!.env);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", closeIdleEnvs);
  }
}

/** Closes and removes every idle environment: a campaign's end, a thread's or the process's exit, a test file's end. */
export function closeIdleEnvs(): void {
  for (const { env } of idle.splice(0)) closeAndRemove(env);
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
