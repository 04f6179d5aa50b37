/**
 * Machine instructions per checkpoint, counted rather than timed ("Checkpoint cost: counted in
 * instructions" in docs/performance.md). On the near-empty tape (the default) the same code counts
 * the same within ± 0.7 %, so an A/B of a change to the checkpoint path shows a 3 % difference
 * that wall-clock rounds lose in their ± 10 % spread. On the bench tape (73) it does not: a run
 * there is 2.7 G instructions, and a 1 % wobble of it is 7,000 a checkpoint; take several counts,
 * one at a time. Needs valgrind (Debian's `valgrind` package); about a minute on the default tape.
 *
 *   npx tsx bench/checkpoint-instructions.ts [trades per second=1] [parts taken away, e.g. state,sink]
 *
 * Four child processes run the seed job under cachegrind (node --predictable, fixed seeds): 4 and
 * 10 runs without checkpoints, 4 and 10 runs with one a second. Runs 5 to 10 are the steady state
 * (the first ones compile), so per checkpoint = ((on10 − on4) − (off10 − off4)) / 6 / checkpoints.
 * Instructions are not time (a Map builtin does more of them per ns than a cache-missing load),
 * so a change that saves instructions is confirmed with bench/checkpoint-floor.ts before it stays.
 */
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { benchTape, seedJobThroughput } from "./seed-job.ts";
import { parseParts, takeAway } from "./ablation.ts";

function child(interval: string, runs: number, rate: number, parts: string): void {
  takeAway(parseParts(parts));
  const tape = benchTape(rate);
  let checkpoints = 0;
  for (let i = 0; i < runs; i++) checkpoints = seedJobThroughput(tape, 1, interval === "off" ? undefined : Number(interval)).checkpoints;
  console.log(JSON.stringify({ checkpoints }));
}

/** Instructions the child `args` executed (cachegrind's "I refs"), and what it printed last. */
function counted(args: string[]): Promise<{ refs: number; checkpoints: number }> {
  const self = fileURLToPath(import.meta.url);
  const node = [process.execPath, "--predictable", "--hash-seed=1", "--random-seed=1", ...process.execArgv, self, "--child", ...args];
  return new Promise((resolve, reject) => {
    const p = spawn("valgrind", ["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", ...node], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => {
      const m = /I\s+refs:\s+([\d,]+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`child ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`));
      resolve({ refs: Number(m[1].replaceAll(",", "")), checkpoints: JSON.parse(out.trim().split("\n").pop()!).checkpoints });
    });
  });
}

async function parent(rate: number, parts: string): Promise<void> {
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.error("valgrind is not installed (apt-get install valgrind): it counts the instructions");
    process.exit(2);
  }
  parseParts(parts); // an unknown part is refused before any child runs
  // Two at a time: the machine has two cores, and a count does not depend on what runs beside it.
  const [off4, off10] = await Promise.all([counted(["off", "4", String(rate), parts]), counted(["off", "10", String(rate), parts])]);
  const [on4, on10] = await Promise.all([counted(["1000", "4", String(rate), parts]), counted(["1000", "10", String(rate), parts])]);
  const off = (off10.refs - off4.refs) / 6, on = (on10.refs - on4.refs) / 6;
  const cps = on10.checkpoints;
  console.log(`seed job, parallelism 1, ${rate} trades a second per symbol${parts ? `, without ${parts}` : ""}: a run without checkpoints ${Math.round(off).toLocaleString("en-US")} instructions, with ${cps} checkpoints ${Math.round(on).toLocaleString("en-US")}`);
  console.log(`${Math.round((on - off) / cps).toLocaleString("en-US")} instructions per checkpoint`);
}

const i = process.argv.indexOf("--child");
if (i >= 0) child(process.argv[i + 1], Number(process.argv[i + 2]), Number(process.argv[i + 3]), process.argv[i + 4] ?? "");
else await parent(Number(process.argv[2] ?? 1), process.argv[3] ?? "");
