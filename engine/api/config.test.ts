import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StreamExecutionEnvironment } from "./environment.ts";
import { CheckpointingMode } from "./checkpoint-config.ts";
import { ConfigurationError } from "./config.ts";
import type { Logger } from "./logger.ts";

const quiet = (): Logger & { warnings: string[]; hints: string[] } => {
  const warnings: string[] = [];
  const hints: string[] = [];
  return { warnings, hints, warn: (m) => void warnings.push(m), info: () => {}, debug: (m) => void hints.push(m) };
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("Flink configuration keys", () => {
  it("configure the environment from a plain object", () => {
    const log = quiet();
    const env = StreamExecutionEnvironment.getExecutionEnvironment({
      log,
      configuration: {
        "execution.checkpointing.interval": "60 s",
        "execution.checkpointing.mode": "AT_LEAST_ONCE",
        "execution.checkpointing.min-pause": "500 ms",
        "execution.checkpointing.timeout": "10 min",
        "execution.checkpointing.max-concurrent-checkpoints": 1,
        "execution.checkpointing.tolerable-failed-checkpoints": 2,
        "state.backend.type": "hashmap",
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": 3,
        "restart-strategy.fixed-delay.delay": "10 s",
        "parallelism.default": 2,
      },
    });
    const cp = env.getCheckpointConfig();
    expect([cp.getCheckpointInterval(), cp.getCheckpointingMode(), cp.getMinPauseBetweenCheckpoints(), cp.getCheckpointTimeout()]).toEqual([60_000, CheckpointingMode.AT_LEAST_ONCE, 500, 600_000]);
    expect(cp.getMaxConcurrentCheckpoints()).toBe(1);
    expect(cp.getTolerableCheckpointFailureNumber()).toBe(2);
    expect(env.getParallelism()).toBe(2);
    expect(env.restartStrategy()).toEqual({ kind: "fixed-delay", attempts: 3, delay: 10_000 });
    expect(log.warnings).toEqual([]);
  });

  it("read a nested config.yaml, and name unknown keys instead of ignoring them silently", () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-conf-"));
    dirs.push(d);
    const f = path.join(d, "config.yaml");
    fs.writeFileSync(f, "execution:\n  checkpointing:\n    interval: 30s\n    intervall: 5s\nrestart-strategy:\n  type: exponential-delay\n  exponential-delay:\n    initial-backoff: 1 s\n    max-backoff: 1 min\n");
    const log = quiet();
    const env = StreamExecutionEnvironment.fromConfigFile(f, { log });
    expect(env.getCheckpointConfig().getCheckpointInterval()).toBe(30_000);
    expect(env.restartStrategy()).toMatchObject({ kind: "exponential-delay", initial: 1_000, max: 60_000 });
    expect(log.warnings).toEqual([`${f}: unknown configuration key "execution.checkpointing.intervall" ignored`]);
  });

  it("configure unaligned checkpoints and the aligned-checkpoint timeout (FLIP-76)", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment({
      configuration: { "execution.checkpointing.unaligned": true, "execution.checkpointing.aligned-checkpoint-timeout": "30 ms" },
    });
    const cp = env.getCheckpointConfig();
    expect([cp.isUnalignedCheckpointsEnabled(), cp.getAlignedCheckpointTimeout()]).toEqual([true, 30]);
    cp.enableUnalignedCheckpoints(false);
    expect(cp.isUnalignedCheckpointsEnabled()).toBe(false);
    expect(() => StreamExecutionEnvironment.getExecutionEnvironment({ configuration: { "execution.checkpointing.unaligned": "maybe" } })).toThrow(/execution.checkpointing.unaligned: expected true or false/);
  });

  it("refuse bad values with the key in the message", () => {
    expect(() => StreamExecutionEnvironment.getExecutionEnvironment({ configuration: { "execution.checkpointing.interval": "soon" } })).toThrow(/execution.checkpointing.interval: cannot parse duration "soon"/);
    expect(() => StreamExecutionEnvironment.getExecutionEnvironment({ configuration: { "execution.checkpointing.mode": "TWICE" } })).toThrow(ConfigurationError);
    expect(() => StreamExecutionEnvironment.getExecutionEnvironment({ configuration: { "restart-strategy.type": "sometimes" } })).toThrow(/restart-strategy.type/);
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-conf-"));
    dirs.push(d);
    fs.writeFileSync(path.join(d, "bad.yaml"), "a: [1,\n");
    expect(() => StreamExecutionEnvironment.fromConfigFile(path.join(d, "bad.yaml"))).toThrow(/bad.yaml.*invalid YAML/);
  });

  it("log deprecation hints for the legacy names, once, at debug level", async () => {
    const { MemoryStateBackend, FsStateBackend } = await import("../state/backends.ts");
    const { RestartStrategies } = await import("./restart-strategies.ts");
    const log = quiet();
    const env = StreamExecutionEnvironment.getExecutionEnvironment({ log });
    env.setStateBackend(new MemoryStateBackend());
    env.setStateBackend(new MemoryStateBackend());
    env.setStateBackend(new FsStateBackend("file:///tmp/flinch/checkpoints"));
    env.setRestartStrategy(RestartStrategies.noRestart());
    expect(log.warnings).toEqual([]);
    expect(log.hints).toEqual([
      "MemoryStateBackend is deprecated; use HashMapStateBackend with JobManagerCheckpointStorage",
      "FsStateBackend is deprecated; use HashMapStateBackend with FileSystemCheckpointStorage",
      "setRestartStrategy(RestartStrategies...) is deprecated; use the restart-strategy.* configuration keys",
    ]);
  });
});
