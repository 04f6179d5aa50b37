/**
 * `npm run teeth`: does plain `flinch chaos` find realistic protocol bugs? Each mutant in
 * mutants/ is a search/replace on a stable snippet of the engine (so it can be re-pointed
 * cheaply when the code moves); this script applies each one to a temporary copy of the
 * repository, runs `flinch chaos --time-budget B` there and reports whether it was found and
 * how long it took, start-up included. Exit 0 when every mutant was found.
 *
 *   npx tsx scripts/teeth.ts [--budget 60s] [--workers N] [--only name,name] [--chaos "--fixed rescale"] [--check] [--no-baseline]
 *
 * It first runs the unmutated engine with the same budget: a finding there (a real bug) would
 * make every mutant look found, so it is reported and the run fails. --chaos passes extra
 * arguments to flinch chaos; --check only verifies that every mutant still applies.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export interface Mutant {
  readonly name: string;
  readonly description: string;
  /** Where the snippet lives today; if it moved, the snippet is looked for in every file under engine/. */
  readonly file: string;
  readonly search: string;
  readonly replace: string;
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function loadMutants(repo = REPO): Mutant[] {
  const dir = path.join(repo, "mutants");
  return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Mutant);
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [p] : [];
  });
}

/** The file (relative to repo) where the mutant applies: its snippet occurs exactly once there. */
export function locate(m: Mutant, repo = REPO): string {
  const count = (p: string) => fs.readFileSync(p, "utf8").split(m.search).length - 1;
  const hinted = path.join(repo, m.file);
  if (fs.existsSync(hinted) && count(hinted) === 1) return m.file;
  const hits = filesUnder(path.join(repo, "engine")).filter((p) => count(p) > 0);
  if (hits.length === 1 && count(hits[0]) === 1) return path.relative(repo, hits[0]);
  throw new Error(`mutant ${m.name} no longer applies: its snippet occurs ${hits.length === 0 ? "nowhere" : `in ${hits.length} places`} under engine/ — re-point mutants/${m.name}.json`);
}

/** A copy of the working tree (tracked and untracked, not ignored) with node_modules linked. */
function copyRepo(): string {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-teeth-"));
  const list = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: REPO, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const f of list) {
    const from = path.join(REPO, f);
    if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue;
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, f));
  }
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dest, "node_modules"), "dir");
  return dest;
}

export interface TeethResult {
  readonly mutant: string;
  readonly found: boolean;
  readonly seconds: number;
  readonly runs: number;
  readonly outcome?: string;
  readonly property?: string;
  readonly message?: string;
  readonly replay?: string;
}

/** Applies one mutant to a fresh copy and runs plain `flinch chaos` there (budget "": one exact case given in `extra`). */
export function runMutant(m: Mutant | undefined, budget: string, workers: number, extra: readonly string[] = []): TeethResult {
  const dir = copyRepo();
  try {
    if (m) {
      const file = path.join(dir, locate(m, dir));
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(m.search, m.replace));
    }
    const t0 = Date.now(); // real-time: the time to find is wall time, start-up included
    const r = spawnSync(process.execPath, ["--import", "tsx", "bin/flinch.ts", "chaos", ...(budget ? ["--time-budget", budget, "--workers", String(workers)] : []), ...extra, "--json", "--out", path.join(dir, "out")], { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
    const seconds = (Date.now() - t0) / 1000; // real-time: see above
    const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
    if (!line) return { mutant: m?.name ?? "(none)", found: false, seconds, runs: 0, outcome: `no summary (exit ${r.status}): ${r.stderr.trim().split("\n").at(-1) ?? ""}` };
    type Finding = { outcome: string; property: string; message: string; replay: string };
    // A campaign's summary lists its failures; one exact case reports its own outcome.
    const j = JSON.parse(line) as { runs: number; failures?: Finding[] } & Partial<Finding>;
    const f = j.failures ? j.failures[0] : j.outcome !== "passed" ? (j as Finding) : undefined;
    return { mutant: m?.name ?? "(none)", found: r.status === 1 && f !== undefined, seconds, runs: j.runs, outcome: f?.outcome, property: f?.property, message: f?.message, replay: f?.replay };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const only = flag(argv, "only")?.split(",");
  const mutants = loadMutants().filter((m) => !only || only.includes(m.name));
  // Fail fast, before any copy, when a snippet moved: name every mutant that needs re-pointing.
  const stale: string[] = [];
  for (const m of mutants) {
    try {
      const at = locate(m);
      if (argv.includes("--check")) console.log(`${m.name}: applies to ${at}`);
    } catch (e) {
      stale.push((e as Error).message);
    }
  }
  for (const s of stale) console.log(s);
  if (stale.length || argv.includes("--check")) return stale.length ? 2 : 0;
  const budget = flag(argv, "budget") ?? "60s";
  const workers = Number(flag(argv, "workers") ?? (os.availableParallelism?.() ?? os.cpus().length));
  const extra = flag(argv, "chaos")?.split(" ").filter(Boolean) ?? [];
  // --no-baseline: iterate on one mutant when the unmutated engine is known clean (the full run always checks it).
  const base: TeethResult = argv.includes("--no-baseline") ? { mutant: "(none)", found: false, seconds: 0, runs: 0 } : runMutant(undefined, budget, workers, extra);
  console.log(`${base.found ? "BASELINE FINDS" : "baseline clean"} ${base.seconds.toFixed(1).padStart(6)} s  ${String(base.runs).padStart(5)} runs  ${base.found ? `${base.outcome}: ${base.property}\n       replay: ${base.replay}` : ""}`);
  if (base.found) {
    console.log("\nthe unmutated engine already fails plain flinch chaos: fix that bug first (or pin its dimension with --chaos \"--fixed DIM\"); mutant results would mean nothing");
    return 1;
  }
  const results: TeethResult[] = [];
  for (const m of mutants) {
    const r = runMutant(m, budget, workers, extra);
    results.push(r);
    console.log(`${r.found ? "found " : "MISSED"} ${m.name.padEnd(20)} ${r.seconds.toFixed(1).padStart(6)} s  ${String(r.runs).padStart(5)} runs  ${r.found ? `${r.outcome}: ${r.outcome === "crashed" ? (r.message ?? "").slice(0, 160) : r.property}` : (r.outcome ?? "")}`);
    if (r.replay) console.log(`       replay: ${r.replay}`);
  }
  const missed = results.filter((r) => !r.found);
  console.log(`\n${results.length - missed.length} of ${results.length} mutants found within ${budget} each${missed.length ? `; missed: ${missed.map((r) => r.mutant).join(", ")}` : ""}`);
  return missed.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
