import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The Java side: where the built job lives, whether it can be built here, and one JVM run with
 * a hard deadline (a JVM is always ended by the code that started it).
 */
export const FLINK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../flink");
export const DEFAULT_JAR = path.join(FLINK_DIR, "target/flinch-flink.jar");
/** The exact build command (CI runs it once; the test global setup too). */
export const BUILD_COMMAND = ["mvn", "-q", "-B", "-f", path.join(FLINK_DIR, "pom.xml"), "package", "-DskipTests"];

export class FlinkSetupError extends Error {
  override readonly name = "FlinkSetupError";
  readonly exitCode = 2;
}

/** Maven's JVM without perf data: every JVM with it leaves /tmp/hsperfdata_<user> behind. */
const MAVEN_ENV = { ...process.env, MAVEN_OPTS: `-XX:-UsePerfData ${process.env.MAVEN_OPTS ?? ""}`.trim() };

export function hasTool(cmd: string): boolean {
  const r = spawnSync(cmd, cmd === "java" ? ["-XX:-UsePerfData", "-version"] : ["-version"], { stdio: "ignore", env: MAVEN_ENV });
  return r.error === undefined;
}

export function buildJar(): void {
  const r = spawnSync(BUILD_COMMAND[0], BUILD_COMMAND.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: MAVEN_ENV });
  if (r.error || r.status !== 0) throw new FlinkSetupError(`building the Flink job failed (${BUILD_COMMAND.join(" ")}): ${r.error?.message ?? (r.stdout + r.stderr).trim().split("\n").slice(-15).join("\n")}`);
}

/** The JVM classpath for a jar: the jar, then target/classpath.txt beside it (Maven's dependency list). */
export function classpathFor(jar = DEFAULT_JAR): string {
  if (!fs.existsSync(jar)) throw new FlinkSetupError(`--jar: ${jar}: no such file (build it with: ${BUILD_COMMAND.join(" ")})`);
  const cpFile = path.join(path.dirname(jar), "classpath.txt");
  if (!fs.existsSync(cpFile)) throw new FlinkSetupError(`${cpFile}: no such file; the jar needs its dependency list beside it (${BUILD_COMMAND.join(" ")} writes both)`);
  return `${jar}${path.delimiter}${fs.readFileSync(cpFile, "utf8").trim()}`;
}

export interface JvmResult {
  /** Exit code, or null when ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface JvmHandle {
  readonly child: ChildProcess;
  readonly done: Promise<JvmResult>;
  kill(): void;
}

/**
 * Starts `java -cp CP dev.flinch.flink.SeedJob ARGS`; killed with SIGKILL at the deadline.
 * `tmpDir`: the JVM's temporary directory, inside the caller's work directory. A MiniCluster
 * unpacks its RPC jar and keeps its blob, I/O and shuffle directories there (five entries a
 * JVM), and a JVM killed by a fault never removes them: the caller's removal of its work
 * directory does. No hsperfdata file either (-XX:-UsePerfData): it would go to /tmp whatever
 * the temporary directory.
 */
export function startJvm(classpath: string, args: readonly string[], timeoutMs: number, tmpDir: string): JvmHandle {
  fs.mkdirSync(tmpDir, { recursive: true });
  const child = spawn("java", ["-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", `-Djava.io.tmpdir=${tmpDir}`, "-cp", classpath, "dev.flinch.flink.SeedJob", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (b: Buffer) => out.push(b));
  child.stderr!.on("data", (b: Buffer) => err.push(b));
  let timedOut = false;
  const timer = setTimeout(() => { // real-time: a JVM never outlives its deadline
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const done = new Promise<JvmResult>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut, stdout: "", stderr: String(e) });
    });
  });
  return { child, done, kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); } };
}

/** The last lines of a JVM's stderr that say why it failed (the "Caused by" chain, no stack frames). */
export function failureSummary(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => !/^\s+at |^\s+\.\.\. \d+ more|^SLF4J:/.test(l) && l.trim());
  const caused = lines.filter((l) => l.startsWith("Caused by:"));
  return (caused.length ? caused[caused.length - 1] : lines[lines.length - 1] ?? "").slice(0, 400);
}
