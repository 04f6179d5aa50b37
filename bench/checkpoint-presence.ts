/**
 * What checkpointing costs a process that checkpoints at all, each configuration in processes of
 * its own ("Checkpoint cost: one configuration per process" in docs/performance.md).
 *
 *   npx tsx bench/checkpoint-presence.ts [processes=4] [CONFIG...]
 *
 * A CONFIG is `off` or an interval in seconds, optionally with parts taken away as
 * bench/ablation.ts does (`600-state,timers`); the default is every interval from 3,600 s to 1 s.
 * The bench and bench/checkpoint-floor.ts run every configuration in one process, so the JIT
 * compiles the per-record path once for all of them. Here each child process runs one
 * configuration (10 runs of the seed job on the bench tape, each checked against the hand loop's
 * sums unless parts are taken away) and reports its fastest of the last seven; the parent
 * interleaves the configurations over the children and prints, per configuration, the median of
 * the children's figures against the first configuration. Node flags given to the parent
 * (`node --no-concurrent-recompilation --import tsx ...`) are given to the children.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { benchTape, handLoopThroughput, seedJobThroughput } from "./seed-job.ts";
import { median, parseParts, takeAway, type Part } from "./ablation.ts";

const DEFAULT_CONFIGS = ["off", "3600", "600", "60", "10", "1"];

/** `600-state,timers` -> 600 s, those parts taken away; `off` -> no checkpoints. An unknown part or a bad interval is an error. */
function parseConfig(config: string): { intervalMs: number | undefined; parts: Part[] } {
  const [interval, parts] = config.split("-");
  if (interval !== "off" && !(Number(interval) > 0)) throw new Error(`${config}: the interval is "off" or seconds above 0`);
  return { intervalMs: interval === "off" ? undefined : Number(interval) * 1000, parts: parseParts(parts ?? "") };
}

function child(config: string): void {
  const { intervalMs, parts } = parseConfig(config);
  takeAway(parts);
  const tape = benchTape();
  const oracle = parts.length === 0 ? handLoopThroughput(tape).sums : undefined;
  const ms: number[] = [];
  let checkpoints = 0;
  for (let i = 0; i < 10; i++) {
    const r = seedJobThroughput(tape, 1, intervalMs, "memory", oracle);
    ms.push((tape.stats.trades / r.tradesPerSec) * 1000);
    checkpoints = r.checkpoints;
  }
  console.log(JSON.stringify({ ms: Math.min(...ms.slice(3)), checkpoints }));
}

function parent(processes: number, configs: readonly string[]): void {
  const self = fileURLToPath(import.meta.url);
  const results = configs.map((): { ms: number; checkpoints: number }[] => []);
  for (let p = 0; p < processes; p++) {
    configs.forEach((config, k) => {
      const r = spawnSync(process.execPath, [...process.execArgv, self, "--child", config], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`child for ${config} exited ${r.status}: ${r.stderr}`);
      results[k].push(JSON.parse(r.stdout.trim().split("\n").pop()!));
    });
  }
  const base = median(results[0].map((r) => r.ms));
  console.log(`seed job, parallelism 1, bench tape; per configuration the median over ${processes} processes of each one's fastest run, against ${configs[0]}`);
  configs.forEach((config, k) => {
    const ms = median(results[k].map((r) => r.ms));
    const cps = results[k][0].checkpoints;
    const each = cps > 0 && k > 0 ? `, ${(((ms - base) * 1000) / cps).toFixed(1)} µs a checkpoint` : "";
    console.log(`${config.padEnd(30)} ${ms.toFixed(1).padStart(7)} ms ${String(cps).padStart(5)} checkpoints ${(((ms - base) / base) * 100).toFixed(1).padStart(5)} %${each}   (${results[k].map((r) => r.ms.toFixed(1)).join(" ")})`);
  });
}

const i = process.argv.indexOf("--child");
if (i >= 0) child(process.argv[i + 1]);
else {
  const [n, ...given] = process.argv.slice(2);
  const configs = given.length ? given : DEFAULT_CONFIGS;
  configs.forEach(parseConfig); // a bad configuration is refused before any child runs
  parent(Number(n ?? 4), configs);
}
