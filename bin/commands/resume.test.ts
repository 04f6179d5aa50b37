import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeFs } from "../../engine/state/fs.ts";
import { readCommittedLines } from "../../engine/connectors/sinks/transactional-file-sink.ts";
import { loadFixture } from "../../sim/binance/fixtures.ts";
import { parseCommittedLine } from "../../scenarios/committed.ts";
import { windowLines, windowOracle } from "../../scenarios/oracle.ts";
import { captureCli } from "../capture-cli.ts";

/**
 * `flink run -s` for flinch: a replay is SIGKILLed mid-way (a real kill of a real process), and
 * `replay --resume` / `--from DIR/chk-n` in a new process, at another parallelism, finishes it
 * with exactly the oracle's windows on disk.
 */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(REPO, "bin/flinch.ts");
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-resume-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => captureCli(argv);

function child(argv: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ["--import", "tsx", BIN, ...argv], { cwd: REPO, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr.on("data", (d) => (stderr += d));
    c.on("error", reject);
    c.on("exit", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** A tape long enough for several 1-minute checkpoints: 10 minutes, 2 symbols, a trade every 2 s each. */
function tapeFile(): string {
  const W = 1_723_161_240_000;
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    for (const [s, base] of [["BTCUSDT", 1000], ["ETHUSDT", 5000]] as const) {
      const T = W + i * 2_000 + (s === "ETHUSDT" ? 700 : 0);
      lines.push(JSON.stringify({ e: "trade", E: T + 3, s, t: base + i, p: "100.5", q: `0.${(i % 97) + 1}`, T, m: i % 2 === 0, M: true }));
    }
  }
  const f = path.join(dir, "tape.jsonl");
  fs.writeFileSync(f, lines.join("\n") + "\n");
  return f;
}

function committedEqualsOracle(ckDir: string, fixture: string): void {
  const rows = readCommittedLines(new NodeFs(), path.join(ckDir, "out")).map((l, i) => parseCommittedLine(l, "out", i + 1));
  expect(windowLines(rows)).toEqual(windowLines(windowOracle(loadFixture(fixture), 60_000)));
}

describe("replay --checkpoint-dir, then --resume / --from after a kill", () => {
  it("killed mid-way, resumed at parallelism 3: exactly the oracle's windows, each once", async () => {
    const f = tapeFile();
    const ck = path.join(dir, "ck1");
    // 600 trades, each its own step in the source and the window task (1,200 steps): step 600 lies after ~5 checkpoints.
    const killed = await child(["replay", f, "--checkpoint-dir", ck, "--kill-at", "600", "--out", path.join(dir, "reports")]);
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const chks = fs.readdirSync(path.join(ck, "checkpoints", "job"));
    expect(chks.length).toBeGreaterThan(0);
    const before = readCommittedLines(new NodeFs(), path.join(ck, "out")).length;
    expect(before).toBeGreaterThan(0); // something was committed before the kill
    expect(before).toBeLessThan(20); // ...but not everything

    const r = await cli("replay", f, "--checkpoint-dir", ck, "--resume", "--parallelism", "3", "--out", path.join(dir, "reports"));
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.err).toMatch(new RegExp(`started from checkpoint (\\d+) \\(${ck}/checkpoints/job/chk-\\1\\)`));
    committedEqualsOracle(ck, f);
    // `flinch check` reads the sink's directory as a downstream reader would.
    expect(await cli("check", "--tape", f, "--output", path.join(ck, "out"))).toMatchObject({ code: 0, out: expect.stringMatching(/✔ committed output equals the oracle: 20 windows/) });
  }, 120_000);

  it("--from a named checkpoint, at parallelism 2: exactly the oracle's windows", async () => {
    const f = tapeFile();
    const ck = path.join(dir, "ck2");
    const killed = await child(["replay", f, "--checkpoint-dir", ck, "--kill-at", "600", "--out", path.join(dir, "reports")]);
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const job = path.join(ck, "checkpoints", "job");
    const latest = fs.readdirSync(job).map((d) => Number(d.slice(4))).sort((a, b) => b - a)[0]!;
    const r = await cli("replay", f, "--checkpoint-dir", ck, "--from", path.join(job, `chk-${latest}`), "--parallelism", "2", "--out", path.join(dir, "reports"));
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.err).toContain(`started from checkpoint ${latest}`);
    committedEqualsOracle(ck, f);

  }, 120_000);

  it("a corrupt latest checkpoint is skipped with its reason logged, and the job starts from the one before", async () => {
    const f = tapeFile();
    const ck = path.join(dir, "ck3");
    const killed = await child(["replay", f, "--checkpoint-dir", ck, "--kill-at", "600", "--out", path.join(dir, "reports")]);
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const job = path.join(ck, "checkpoints", "job");
    const ids = fs.readdirSync(job).map((d) => Number(d.slice(4))).sort((a, b) => b - a);
    expect(ids.length).toBeGreaterThan(1); // --checkpoint-dir retains 3
    fs.writeFileSync(path.join(job, `chk-${ids[0]}`, "_metadata"), "");
    const r = await cli("replay", f, "--checkpoint-dir", ck, "--resume", "--out", path.join(dir, "reports"));
    expect(r.err).toMatch(new RegExp(`skipped checkpoint ${ids[0]}: .*_metadata: truncated: 0 bytes`));
    expect(r.err).toContain(`started from checkpoint ${ids[1]}`);
    // The killed process had already committed the epoch of the skipped checkpoint; starting from
    // the one before writes those windows again. Flink's 2PC sinks behave the same (a restore to an
    // older checkpoint re-emits what was committed since), and the checks say so rather than pass.
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✘ each window committed once: 2 windows committed more than once/);
  }, 120_000);

  it("bad resume flags are usage errors (exit 2), not stack traces", async () => {
    const f = tapeFile();
    expect((await cli("replay", f, "--resume")).err).toMatch(/^flinch replay: --resume needs --checkpoint-dir DIR/);
    expect(await cli("replay", f, "--checkpoint-dir", path.join(dir, "none"), "--resume")).toMatchObject({ code: 2, err: expect.stringMatching(/holds no checkpoints/) });
    expect(await cli("replay", f, "--checkpoint-dir", path.join(dir, "ck3"), "--from", path.join(dir, "ck3", "chk-9"))).toMatchObject({ code: 2, err: expect.stringMatching(/--from: .*chk-9: no such checkpoint directory/) });
    expect(await cli("replay", f, "--checkpoint-dir", path.join(dir, "ck3"), "--from", dir)).toMatchObject({ code: 2, err: expect.stringMatching(/is not a checkpoint directory/) });
    expect(await cli("replay", f, "--checkpoint-dir", f)).toMatchObject({ code: 2, err: expect.stringMatching(/--checkpoint-dir: .* is not a directory/) });
    expect(await cli("replay", f, "--checkpoint-dir", path.join(dir, "ck4"), "--backend", "memory")).toMatchObject({ code: 2, err: expect.stringMatching(/needs --backend file or kv/) });
    const only = path.join(dir, "ck5", "checkpoints", "job", "chk-1");
    fs.mkdirSync(only, { recursive: true });
    fs.writeFileSync(path.join(only, "_metadata"), "");
    expect(await cli("replay", f, "--checkpoint-dir", path.join(dir, "ck5"), "--from", only)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^flinch replay: --from .*chk-1: no valid checkpoint to restore from: chk-1: .*_metadata: truncated/),
    });
  });
});
