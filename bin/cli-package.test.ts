import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), installed
 * into a fresh folder with `npm ci --offline` (nothing is downloaded: the tarballs of flinch's
 * runtime dependencies come from the npm cache that the clone's own `npm ci` filled), then the
 * `flinch` bin under plain node, and a TypeScript file importing the API type-checked.
 * The lock file of that folder is the clone's lock minus devDependencies, so a runtime import
 * of a devDependency (tsx, vitest, @fast-check/vitest) fails here.
 */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let dir: string;
let app: string;

function npm(args: string[], cwd: string, timeout = 180_000): string {
  return execFileSync("npm", args, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" } });
}

/** Runs the installed bin as `npx flinch …` does; returns code and output. */
function flinch(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync("npx", ["--offline", "flinch", ...args], { cwd: app, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-pack-"));
  app = path.join(dir, "app");
  fs.mkdirSync(app);
  const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], REPO, 240_000)) as { filename: string; files: { path: string }[] }[];
  const tgz = path.join(dir, packed[0].filename);
  fs.copyFileSync(tgz, path.join(app, "flinch.tgz"));
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8"));
  const packages: Record<string, unknown> = {
    "": { name: "app", dependencies: { flinch: "file:flinch.tgz" } },
    "node_modules/flinch": {
      version: pkg.version, resolved: "file:flinch.tgz",
      integrity: `sha512-${createHash("sha512").update(fs.readFileSync(tgz)).digest("base64")}`,
      dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
    },
  };
  const registry = execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8" }).trim().replace(/\/?$/, "/");
  for (const [k, v] of Object.entries(lock.packages as Record<string, { dev?: boolean; version: string; resolved?: string }>)) {
    if (k === "" || v.dev) continue;
    const name = k.slice(k.lastIndexOf("node_modules/") + "node_modules/".length);
    // The URL is the npm cache's key for the tarball the clone's `npm ci` fetched.
    packages[k] = { ...v, resolved: v.resolved ?? `${registry}${name}/-/${name.split("/").pop()}-${v.version}.tgz` };
  }
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", dependencies: { flinch: "file:flinch.tgz" }, allowScripts: pkg.allowScripts }));
  fs.writeFileSync(path.join(app, "package-lock.json"), JSON.stringify({ name: "app", lockfileVersion: 3, requires: true, packages }));
  npm(["ci", "--offline", "--no-audit", "--no-fund"], app);
}, 420_000);
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the packed tarball, installed in a fresh folder", () => {
  it("ships the compiled code, the bin and a fixture, and no tests or TypeScript sources", () => {
    const root = path.join(app, "node_modules/flinch");
    const files = execFileSync("find", [".", "-type", "f"], { cwd: root, encoding: "utf8" }).trim().split("\n");
    expect(files).toContain("./dist/bin/flinch.js");
    expect(files).toContain("./dist/index.d.ts");
    expect(files).toContain("./fixtures/sim-btcusdt-ethusdt-3m.txt.gz");
    expect(files.filter((f) => /\.test\.|\/vitest|\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    expect(fs.readFileSync(path.join(root, "dist/bin/flinch.js"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("npx flinch --help, --version and CMD --help", () => {
    const h = flinch("--help");
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^commands:$/m);
    expect(h.out).toMatch(/^ {2}chaos +swarm chaos/m);
    const v = flinch("--version");
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version);
    const b = flinch("bench", "--help");
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/^usage: flinch bench/m);
  });

  it("npx flinch chaos --runs 20: exit 0, a report, one JSON line on stdout", () => {
    const r = flinch("chaos", "--runs", "20", "--out", "reports", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim().split("\n").at(-1)!);
    expect(j).toMatchObject({ command: "chaos", runs: 20, passed: 20, violations: 0 });
    expect(fs.existsSync(path.join(app, j.reportDir, "report.html"))).toBe(true);
  });

  it("npx flinch chaos --process: the compiled worker runs under plain node, is killed and resumes", () => {
    const r = flinch("chaos", "--process", "--backend", "file", "--runs", "1", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim().split("\n").at(-1)!);
    expect(j).toMatchObject({ command: "chaos", process: true, runs: 1, passed: 1, violations: 0 });
  });

  it("npx flinch replay of the shipped fixture: exit 0 and every window checked", () => {
    const r = flinch("replay", "node_modules/flinch/fixtures/sim-btcusdt-ethusdt-3m.txt.gz", "--out", "reports", "--json");
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim().split("\n").at(-1)!);
    expect(j).toMatchObject({ command: "replay", trades: 11_941, violations: 0 });
    expect(j.windows.length).toBeGreaterThan(0);
  });

  it("a user error is exit 2 with one line, no stack", () => {
    const r = flinch("replay", "nope.jsonl");
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toEqual([expect.stringMatching(/^flinch replay: nope\.jsonl: no such file/)]);
  });

  it("the API imports at run time and type-checks from TypeScript (and a wrong use does not)", () => {
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", `import { StreamExecutionEnvironment, runChaos, checkOracle, TumblingEventTimeWindows } from "flinch"; import { FsStateBackend } from "flinch/engine"; console.log([StreamExecutionEnvironment, runChaos, checkOracle, TumblingEventTimeWindows.of, FsStateBackend].map((f) => typeof f).join(","));`], { cwd: app, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("function,function,function,function,function");
    fs.writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [path.join(REPO, "node_modules/@types")] },
      files: ["job.ts"],
    }));
    const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
    const job = `import { StreamExecutionEnvironment, CheckpointingMode, Duration, type JobExecutionResult } from "flinch";
import { type ScenarioSpec } from "flinch/scenarios";
const env = StreamExecutionEnvironment.getExecutionEnvironment({ seed: 1 });
env.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE);
export const timeout: number = Duration.ofSeconds(10);
export type R = JobExecutionResult;
export type S = ScenarioSpec;
`;
    fs.writeFileSync(path.join(app, "job.ts"), job);
    const ok = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: app, encoding: "utf8" });
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    fs.writeFileSync(path.join(app, "job.ts"), job + `export const wrong: string = Duration.ofSeconds(10);\n`);
    const bad = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: app, encoding: "utf8" });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/job\.ts\(8,\d+\): error TS2322/);
  });
});
