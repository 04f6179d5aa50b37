import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Tape } from "../sim/binance/tape.ts";
import { classpathFor, DEFAULT_JAR, failureSummary, hasTool, startJvm } from "../scenarios/flink/jvm.ts";
import { writeTapeFile } from "../scenarios/flink/tape-file.ts";

/**
 * The seed job on an Apache Flink MiniCluster (parallelism 1, the bounded pre-parsed source over
 * the same tape, the seed's 60 s checkpoints, FileSink) against flinch's engine on that tape.
 * Flink's figure is trades over the job's net runtime (JobExecutionResult.getNetRuntime: from
 * submission to the end, JVM start excluded, MiniCluster job deployment included). Skipped with
 * a reason when java or the built jar is missing.
 */
export type FlinkBench = { kind: "ran"; flinkTradesPerSec: number; flinkNetMs: number } | { kind: "skipped"; reason: string };

export async function benchFlink(tape: Tape): Promise<FlinkBench> {
  if (!hasTool("java")) return { kind: "skipped", reason: "java is not on the PATH" };
  if (!fs.existsSync(DEFAULT_JAR)) return { kind: "skipped", reason: `${DEFAULT_JAR} is not built (mvn -q -B -f flink/pom.xml package -DskipTests)` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-bench-flink-"));
  try {
    const file = path.join(dir, "tape.tsv");
    writeTapeFile(tape, file);
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const r = await startJvm(classpathFor(), ["--tape", file, "--sink", "file", "--out", path.join(dir, `out${i}`), "--checkpoints", path.join(dir, `chk${i}`), "--backend", "hashmap", "--interval", "60000"], 300_000, path.join(dir, "jvm-tmp")).done;
      const m = /net runtime ms (\d+)/.exec(r.stderr);
      if (r.code !== 0 || !m) throw new Error(`bench: the Flink job failed: ${failureSummary(r.stderr)}`);
      best = Math.min(best, Number(m[1]));
    }
    return { kind: "ran", flinkTradesPerSec: tape.stats.trades / (best / 1000), flinkNetMs: best };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
