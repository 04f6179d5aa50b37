import { createRequire } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { DataStream } from "../../engine/api/datastream.ts";
import type { StreamExecutionEnvironment } from "../../engine/api/environment.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import type { Sink } from "../../engine/api/sink.ts";

/**
 * A user's job, as `flinch chaos --job ./my-job.ts` runs it: a function that builds the pipeline
 * from the trade stream (flinch's source, watermarks and simulated exchange) to the given sink
 * (flinch's transactional file sink, so committed output can be read back). Checkpointing, the
 * state backend and restarts are the swarm's to configure; the job only says what it computes.
 * Its output is checked against the reference run: the same job on the same tape, no faults.
 */
export type JobBuilder = (env: StreamExecutionEnvironment, trades: DataStream<Trade>, sink: Sink<unknown>) => void;

/** A job module that cannot be used: a user error (exit 2) naming the file. */
export class JobModuleError extends Error {
  override readonly name = "JobModuleError";
  readonly exitCode = 2;
}

const registry = new Map<string, JobBuilder>();

/** Jobs runScenario can build synchronously: loaded (imported) once, before any run. */
export function registeredJob(id: string): JobBuilder {
  const j = registry.get(id);
  if (!j) throw new JobModuleError(`job module ${JSON.stringify(id)} was not loaded (loadJobModule first)`);
  return j;
}

export function registerJob(id: string, build: JobBuilder): void {
  registry.set(id, build);
}

/** Imports a job module (default export, or a `job` export) and registers it under its absolute path, which it returns. */
export async function loadJobModule(file: string): Promise<string> {
  const abs = path.resolve(file);
  let mod: Record<string, unknown>;
  try {
    if (/\.[mc]?ts$/.test(abs)) await typeScriptLoader(file);
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof JobModuleError) throw e;
    throw new JobModuleError(`--job ${file}: cannot load (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`);
  }
  const build = mod.default ?? mod.job;
  if (typeof build !== "function") throw new JobModuleError(`--job ${file}: expected a default export (env, trades, sink) => void that builds the pipeline`);
  registerJob(abs, build as JobBuilder);
  return abs;
}

let tsLoader: Promise<void> | undefined;

/**
 * Plain node (the installed package, `npx flinch`, chaos worker threads) cannot import a `.ts` job
 * module: register tsx's loader in this thread, from flinch's own dependencies (a clone has tsx)
 * or else from the user's project. Under tsx already this registers the same hooks once more.
 */
function typeScriptLoader(file: string): Promise<void> {
  return (tsLoader ??= (async () => {
    try {
      (await import("tsx/esm/api")).register();
      return;
    } catch {
      // not among flinch's dependencies (an installed package): try the user's project
    }
    try {
      const dir = path.dirname(createRequire(path.join(process.cwd(), "package.json")).resolve("tsx/package.json"));
      const api = (await import(pathToFileURL(path.join(dir, "dist/esm/api/index.mjs")).href)) as { register: () => unknown };
      api.register();
    } catch {
      throw new JobModuleError(`--job ${file}: a TypeScript job module needs tsx (npm install --save-dev tsx), or compile it to .js`);
    }
  })());
}
