import * as fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { CheckpointingMode } from "./checkpoint-config.ts";
import { RestartStrategies } from "./restart-strategies.ts";
import { parseDuration } from "./time.ts";
import type { CheckpointConfig } from "./checkpoint-config.ts";
import type { RestartStrategy } from "./restart-strategies.ts";
import type { StateBackend } from "../state/backends.ts";

/** What configuration keys set: the environment implements it (named here so this file does not import it). */
export interface Configurable {
  getCheckpointConfig(): CheckpointConfig;
  setStateBackend(backend: StateBackend): unknown;
  setParallelism(p: number): unknown;
  setMaxParallelism(n: number): unknown;
  configureRestartStrategy(s: RestartStrategy): unknown;
}
import { FileSystemCheckpointStorage, JobManagerCheckpointStorage } from "../state/checkpoint-storage.ts";
import { HashMapStateBackend } from "../state/backends.ts";
import { EmbeddedKVStateBackend, EmbeddedRocksDBStateBackend } from "../state/kv/kv-state-backend.ts";

/**
 * Flink configuration keys, from a plain object or a config.yaml (nested maps are flattened
 * to dotted keys, as Flink 1.19+'s config.yaml allows). Unknown keys are reported, not ignored
 * in silence: a misspelt key is the most common way a checkpoint setting "doesn't work".
 */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  readonly exitCode = 2;
}

export type Configuration = Record<string, string | number | boolean>;

export function flattenConfig(obj: Record<string, unknown>, prefix = "", out: Configuration = {}): Configuration {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) flattenConfig(v as Record<string, unknown>, key, out);
    else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[key] = v;
    else throw new ConfigurationError(`${key}: unsupported value ${JSON.stringify(v)}`);
  }
  return out;
}

export function loadConfigYaml(path: string): Configuration {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigurationError(`${path}: cannot read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const line = (e as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigurationError(`${path}${line ? `:${line}` : ""}: invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigurationError(`${path}: expected a map of configuration keys`);
  return flattenConfig(doc as Record<string, unknown>);
}

const int = (k: string, v: unknown): number => {
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n)) throw new ConfigurationError(`${k}: expected a whole number, got ${JSON.stringify(v)}`);
  return n;
};
const bool = (k: string, v: unknown): boolean => {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  throw new ConfigurationError(`${k}: expected true or false, got ${JSON.stringify(v)}`);
};
const dur = (k: string, v: unknown): number => {
  try {
    return parseDuration(v as string | number, k);
  } catch (e) {
    throw new ConfigurationError((e as Error).message);
  }
};

/** Applies every key to the environment; returns the keys it did not know. */
export function applyConfiguration(env: Configurable, conf: Configuration): string[] {
  const cp = env.getCheckpointConfig();
  const unknown: string[] = [];
  const restart: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(conf)) {
    switch (k) {
      case "execution.checkpointing.interval":
        cp.setCheckpointInterval(dur(k, v));
        break;
      case "execution.checkpointing.mode": {
        const m = String(v).toUpperCase().replace("-", "_");
        if (m !== "EXACTLY_ONCE" && m !== "AT_LEAST_ONCE") throw new ConfigurationError(`${k}: expected EXACTLY_ONCE or AT_LEAST_ONCE, got ${JSON.stringify(v)}`);
        cp.setCheckpointingMode(CheckpointingMode[m]);
        break;
      }
      case "execution.checkpointing.min-pause":
        cp.setMinPauseBetweenCheckpoints(dur(k, v));
        break;
      case "execution.checkpointing.timeout":
        cp.setCheckpointTimeout(dur(k, v));
        break;
      case "execution.checkpointing.max-concurrent-checkpoints":
        cp.setMaxConcurrentCheckpoints(int(k, v));
        break;
      case "execution.checkpointing.tolerable-failed-checkpoints":
        cp.setTolerableCheckpointFailureNumber(int(k, v));
        break;
      case "execution.checkpointing.num-retained":
      case "state.checkpoints.num-retained":
        cp.setNumRetainedCheckpoints(int(k, v));
        break;
      case "execution.checkpointing.incremental":
      case "state.backend.incremental":
        cp.incremental = bool(k, v);
        break;
      case "execution.checkpointing.unaligned":
      case "execution.checkpointing.unaligned.enabled":
        cp.enableUnalignedCheckpoints(bool(k, v));
        break;
      case "execution.checkpointing.aligned-checkpoint-timeout":
      case "execution.checkpointing.alignment-timeout":
        cp.setAlignedCheckpointTimeout(dur(k, v));
        break;
      case "execution.checkpointing.dir":
      case "state.checkpoints.dir":
        cp.setCheckpointStorage(new FileSystemCheckpointStorage(String(v)));
        break;
      case "execution.checkpointing.storage":
      case "state.checkpoint-storage": {
        const s = String(v).toLowerCase();
        if (s === "jobmanager") cp.setCheckpointStorage(new JobManagerCheckpointStorage());
        else if (s !== "filesystem") throw new ConfigurationError(`${k}: expected jobmanager or filesystem, got ${JSON.stringify(v)}`);
        break;
      }
      case "state.backend.type":
      case "state.backend": {
        const b = String(v).toLowerCase();
        if (b === "hashmap" || b === "filesystem" || b === "jobmanager") env.setStateBackend(new HashMapStateBackend());
        else if (b === "rocksdb" || b === "kv" || b === "embedded-kv") env.setStateBackend(b === "rocksdb" ? new EmbeddedRocksDBStateBackend() : new EmbeddedKVStateBackend());
        else throw new ConfigurationError(`${k}: expected hashmap or rocksdb, got ${JSON.stringify(v)}`);
        break;
      }
      case "parallelism.default":
        env.setParallelism(int(k, v));
        break;
      case "pipeline.max-parallelism":
        env.setMaxParallelism(int(k, v));
        break;
      default:
        if (k.startsWith("restart-strategy")) restart[k] = v;
        else unknown.push(k);
    }
  }
  if (Object.keys(restart).length) applyRestart(env, restart, unknown);
  return unknown;
}

function applyRestart(env: Configurable, r: Record<string, unknown>, unknown: string[]): void {
  const type = String(r["restart-strategy.type"] ?? r["restart-strategy"] ?? "").toLowerCase().replace(/[-_]/g, "");
  const get = (k: string, d: unknown) => r[`restart-strategy.${k}`] ?? d;
  const known = new Set(["restart-strategy", "restart-strategy.type"]);
  const mark = (...ks: string[]) => ks.forEach((k) => known.add(`restart-strategy.${k}`));
  switch (type) {
    case "fixeddelay":
      mark("fixed-delay.attempts", "fixed-delay.delay");
      env.configureRestartStrategy(RestartStrategies.fixedDelayRestart(int("restart-strategy.fixed-delay.attempts", get("fixed-delay.attempts", 1)), dur("restart-strategy.fixed-delay.delay", get("fixed-delay.delay", 1000))));
      break;
    case "exponentialdelay":
      mark("exponential-delay.initial-backoff", "exponential-delay.max-backoff", "exponential-delay.backoff-multiplier", "exponential-delay.reset-backoff-threshold", "exponential-delay.jitter-factor");
      env.configureRestartStrategy(RestartStrategies.exponentialDelayRestart(
        dur("initial-backoff", get("exponential-delay.initial-backoff", 1000)),
        dur("max-backoff", get("exponential-delay.max-backoff", 60_000)),
        Number(get("exponential-delay.backoff-multiplier", 1.5)),
        dur("reset-backoff-threshold", get("exponential-delay.reset-backoff-threshold", 3_600_000)),
        Number(get("exponential-delay.jitter-factor", 0.1)),
      ));
      break;
    case "failurerate":
      mark("failure-rate.max-failures-per-interval", "failure-rate.failure-rate-interval", "failure-rate.delay");
      env.configureRestartStrategy(RestartStrategies.failureRateRestart(
        int("max-failures-per-interval", get("failure-rate.max-failures-per-interval", 1)),
        dur("failure-rate-interval", get("failure-rate.failure-rate-interval", 60_000)),
        dur("delay", get("failure-rate.delay", 1000)),
      ));
      break;
    case "none":
    case "off":
    case "disable":
      env.configureRestartStrategy(RestartStrategies.noRestart());
      break;
    default:
      throw new ConfigurationError(`restart-strategy.type: expected fixed-delay, exponential-delay, failure-rate or none, got ${JSON.stringify(r["restart-strategy.type"] ?? r["restart-strategy"])}`);
  }
  for (const k of Object.keys(r)) if (!known.has(k)) unknown.push(k);
}
