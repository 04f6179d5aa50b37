import type { TestProject } from "vitest/node";
import { buildJar, classpathFor, hasTool } from "./jvm.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The real-Flink job's classpath, or "" when the Flink tests are skipped. */
    flinkClasspath: string;
    /** Why the Flink tests are skipped ("" when they run). */
    flinkSkipReason: string;
  }
}

/**
 * Builds the Java job once per test run (Maven, offline-friendly: ~/.m2 is reused) when both
 * `java` and `mvn` exist; otherwise the real-Flink tests skip and say why. A failed build is a
 * failure of those tests, not a skip.
 */
export default function setup(project: TestProject): void {
  if (process.env.FLINCH_SKIP_FLINK) return skip(project, `FLINCH_SKIP_FLINK is set`);
  if (!hasTool("java")) return skip(project, "java is not on the PATH");
  if (!hasTool("mvn")) return skip(project, "mvn is not on the PATH");
  const t0 = Date.now();
  buildJar();
  project.provide("flinkClasspath", classpathFor());
  project.provide("flinkSkipReason", "");
  process.stderr.write(`real Flink: job built in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
}

function skip(project: TestProject, why: string): void {
  process.stderr.write(`real Flink tests SKIPPED: ${why}\n`);
  project.provide("flinkClasspath", "");
  project.provide("flinkSkipReason", why);
}
