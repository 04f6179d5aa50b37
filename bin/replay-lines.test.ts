import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "./main.ts";
import { shellQuote, splitShellWords } from "../scenarios/replay-line.ts";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch replay line "));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const l = vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const e = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    return { code: await main(argv), out };
  } finally {
    l.mockRestore();
    e.mockRestore();
  }
}

/** The printed line as a shell would split it: `npx flinch CMD ARGS…` → main(CMD ARGS…). */
function argvOf(line: string): string[] {
  const words = splitShellWords(line);
  expect(words.slice(0, 2)).toEqual(["npx", "flinch"]);
  return words.slice(2);
}

const W = 1_723_161_240_000;
const trade = (id: number, t: number, q: string) => JSON.stringify({ e: "trade", E: t + 5, s: "BTCUSDT", t: id, p: "61000.10000000", q, T: t, m: false, M: true });

describe("replay lines run as printed", () => {
  it("replay: the printed line (a path with spaces and a quote, shell-quoted) replays the same run", async () => {
    const f = path.join(dir, "it's a tape.jsonl");
    fs.writeFileSync(f, [trade(1, W + 1, "0.1"), trade(2, W + 2, "0.2"), trade(3, W + 60_000, "1.5"), trade(4, W + 130_000, "0.3")].join("\n") + "\n");
    const out = path.join(dir, "out dir");
    const first = await cli(["replay", f, "--crash-every", "2", "--backend", "file", "--window", "1m", "--seed", "7", "--out", out, "--json"]);
    expect(first.code).toBe(0);
    const j1 = JSON.parse(first.out.at(-1)!);
    expect(j1.replay).toMatch(/^npx flinch replay '.*it'\\''s a tape\.jsonl' --backend file .*--seed 7 --crash-every 2 --out '.*out dir'$/);
    const again = await cli([...argvOf(j1.replay), "--json"]);
    expect(again.code).toBe(0);
    const j2 = JSON.parse(again.out.at(-1)!);
    expect(j2.traceHash).toBe(j1.traceHash);
    expect(j2.windows).toEqual(j1.windows);
    expect(j2.replay).toBe(j1.replay);
  });

  it("replay: a run kept in a checkpoint directory says so in its line", async () => {
    const f = path.join(dir, "cp.jsonl");
    fs.writeFileSync(f, [trade(1, W + 1, "0.1"), trade(2, W + 61_000, "0.2")].join("\n") + "\n");
    const cp = path.join(dir, "checkpoints");
    const r = await cli(["replay", f, "--checkpoint-dir", cp, "--out", path.join(dir, "cp-out"), "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.at(-1)!).replay).toContain(` --checkpoint-dir ${shellQuote(cp)} `);
  });

  it("run: the printed line replays the same trace", async () => {
    const out = path.join(dir, "run-out");
    const first = await cli(["run", "--seed", "5", "--out", out, "--json"]);
    const j1 = JSON.parse(first.out.at(-1)!);
    expect(j1.replay).toBe(`npx flinch run --scenario seed-config --seed 5 --out ${out.includes(" ") ? `'${out}'` : out}`);
    const again = await cli([...argvOf(j1.replay), "--json"]);
    expect(again.code).toBe(first.code);
    expect(JSON.parse(again.out.at(-1)!).traceHash).toBe(j1.traceHash);
  });
});
