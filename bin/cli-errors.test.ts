import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { classify, reportError } from "./main.ts";
import { captureCli } from "./capture-cli.ts";

/**
 * Every bad flag and bad path of issues #12 and #13, in one table: each is exit 2 (bad usage or
 * bad input) with exactly one line on stderr that says what is wrong, names the flag or path,
 * and carries no stack trace; nothing runs before the check. Rows marked `owner` are fixed in
 * another branch (their body belongs to that engineer): they run as `it.fails` here, so the
 * table says when they start passing and the mark must go.
 */
let dir: string;
const P = (f: string) => path.join(dir, f);
const W = 1_723_161_240_000;
const trade = (id: number, t: number) => JSON.stringify({ e: "trade", E: t + 5, s: "BTCUSDT", t: id, p: "61000.1", q: "0.1", T: t, m: true, M: true });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-cli-errors-"));
  fs.writeFileSync(P("ok.jsonl"), [trade(1, W + 1), trade(2, W + 2), trade(3, W + 60_000)].join("\n") + "\n");
  fs.writeFileSync(P("BTCUSDT-trades-2024-08-08.csv"), "1,61837.63,0.02,1236.7526,1723161255342,true,true\n");
  fs.writeFileSync(P("existing-file"), "x");
  fs.writeFileSync(P("invalid.json"), "{ not json");
  fs.mkdirSync(P("run-without-json"));
  fs.mkdirSync(P("run-bad-json"));
  fs.writeFileSync(P("run-bad-json/run.json"), "{");
  execFileSync("mkfifo", [P("fifo.jsonl")]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (argv: string[]) => captureCli(argv);

interface Row {
  argv: () => string[];
  /** The one line on stderr. */
  message: RegExp;
  owner?: string;
}

const ROWS: Record<string, Row> = {
  // #13: output paths, checked before work starts
  "check --output DIR without part files (EISDIR)": { argv: () => ["check", "--tape", P("ok.jsonl"), "--output", dir], message: /^flinch check: --output: .* is a directory with no part-\*\.jsonl files/ },
  "replay --out /dev/null": { argv: () => ["replay", P("ok.jsonl"), "--out", "/dev/null"], message: /^flinch replay: --out \/dev\/null: is a device, not a directory$/ },
  "replay --out EXISTING_FILE": { argv: () => ["replay", P("ok.jsonl"), "--out", P("existing-file")], message: /^flinch replay: --out .*existing-file: is a file, not a directory$/ },
  "replay --out EXISTING_FILE/sub": { argv: () => ["replay", P("ok.jsonl"), "--out", P("existing-file/sub")], message: /^flinch replay: --out .*existing-file\/sub: .*existing-file is a file, not a directory$/ },
  "convert --out /proc/x/y (ENOENT)": { argv: () => ["convert", P("BTCUSDT-trades-2024-08-08.csv"), "--symbol", "BTCUSDT", "--out", "/proc/x/y"], message: /^flinch convert: --out \/proc\/x\/y: directory \/proc\/x does not exist$/ },
  "replay --out /proc/x (hung)": { argv: () => ["replay", P("ok.jsonl"), "--out", "/proc/x"], message: /^flinch replay: --out \/proc\/x: cannot create \/proc\/x: the file system does not allow it$/ },
  "replay --checkpoint-dir /proc/x (hung)": { argv: () => ["replay", P("ok.jsonl"), "--checkpoint-dir", "/proc/x"], message: /^flinch replay: --checkpoint-dir \/proc\/x: cannot create \/proc\/x: the file system does not allow it$/ },
  "chaos --out /proc/x (hung)": { argv: () => ["chaos", "--runs", "1", "--out", "/proc/x"], message: /^flinch chaos: --out \/proc\/x: cannot create/ },
  "run --out /dev/null": { argv: () => ["run", "--out", "/dev/null"], message: /^flinch run: --out \/dev\/null: is a device, not a directory$/ },
  "record --out /proc/x/y": { argv: () => ["record", "--url", "ws://127.0.0.1:1/ws", "--out", "/proc/x/y", "--count", "1"], message: /^flinch record: --out \/proc\/x\/y: directory \/proc\/x does not exist$/ },
  "convert --out DIR": { argv: () => ["convert", P("BTCUSDT-trades-2024-08-08.csv"), "--symbol", "BTCUSDT", "--out", dir], message: /^flinch convert: --out .*: is a directory, not a file$/ },
  "report /nonexistent": { argv: () => ["report", "/nonexistent"], message: /^flinch report: \/nonexistent: no such directory$/ },
  "report FILE": { argv: () => ["report", P("existing-file")], message: /^flinch report: .*existing-file: is a file, not a directory$/ },
  "report DIR without run.json": { argv: () => ["report", P("run-without-json")], message: /^flinch report: .*run-without-json\/run\.json: not found/ },
  "report DIR with a broken run.json": { argv: () => ["report", P("run-bad-json")], message: /^flinch report: .*run-bad-json\/run\.json: not valid JSON/ },
  // missing and unreadable inputs: named, never FILE:0:
  "replay MISSING": { argv: () => ["replay", P("nope.jsonl")], message: /^flinch replay: .*nope\.jsonl: no such file$/ },
  "replay FIFO (would block)": { argv: () => ["replay", P("fifo.jsonl")], message: /^flinch replay: .*fifo\.jsonl: is a FIFO, not a file$/ },
  "replay DIR": { argv: () => ["replay", dir], message: /^flinch replay: .*: is a directory, not a file$/ },
  "check --tape MISSING": { argv: () => ["check", "--tape", P("nope.jsonl"), "--output", P("ok.jsonl")], message: /^flinch check: --tape .*nope\.jsonl: no such file$/ },
  "check --output MISSING": { argv: () => ["check", "--tape", P("ok.jsonl"), "--output", P("nope.jsonl")], message: /^flinch check: --output: .*nope\.jsonl: no such file$/ },
  "convert MISSING.csv": { argv: () => ["convert", P("nope.csv"), "--symbol", "BTCUSDT", "--out", P("o.jsonl")], message: /^flinch convert: .*nope\.csv: no such file$/ },
  "serve --fixture MISSING": { argv: () => ["serve", "--fixture", P("nope.jsonl")], message: /^flinch serve: --fixture .*nope\.jsonl: no such file$/ },
  "_worker --spec MISSING": { argv: () => ["_worker", "--spec", P("nope.json"), "--root", dir], message: /^flinch _worker: --spec .*nope\.json: no such file$/ },
  // #13: flag values
  "replay --window 0.5ms (refused, not rounded)": { argv: () => ["replay", P("ok.jsonl"), "--window", "0.5ms"], message: /^flinch replay: --window: "0\.5ms" is not a whole number of milliseconds$/ },
  "check --window 0.5ms": { argv: () => ["check", "--tape", P("ok.jsonl"), "--output", P("ok.jsonl"), "--window", "0.5ms"], message: /^flinch check: --window: "0\.5ms" is not a whole number of milliseconds$/ },
  "replay --window 99999999999d": { argv: () => ["replay", P("ok.jsonl"), "--window", "99999999999d"], message: /^flinch replay: --window: "99999999999d" is too long \(at most 366d\)$/ },
  "replay --window 0": { argv: () => ["replay", P("ok.jsonl"), "--window", "0"], message: /^flinch replay: --window: a window must be at least 1ms/ },
  "replay --window sixty": { argv: () => ["replay", P("ok.jsonl"), "--window", "sixty"], message: /^flinch replay: --window: expected a duration like 1m/ },
  "replay --seed abc": { argv: () => ["replay", P("ok.jsonl"), "--seed", "abc"], message: /^flinch replay: --seed: expected a whole number from 0 to 4294967295, got "abc"$/ },
  "chaos --seed abc": { argv: () => ["chaos", "--seed", "abc"], message: /^flinch chaos: --seed: expected a whole number from 0 to 4294967295, got "abc"$/ },
  "run --seed abc": { argv: () => ["run", "--seed", "abc"], message: /^flinch run: --seed: expected a whole number from 0 to 4294967295, got "abc"$/ },
  "chaos --seed 1e3": { argv: () => ["chaos", "--seed", "1e3"], message: /^flinch chaos: --seed: expected a whole number/ },
  "replay --crash-every 0": { argv: () => ["replay", P("ok.jsonl"), "--crash-every", "0"], message: /^flinch replay: --crash-every: expected a whole number >= 1, got "0"$/ },
  "chaos --time-budget 0s": { argv: () => ["chaos", "--time-budget", "0s"], message: /^flinch chaos: --time-budget: expected a duration above 0 \(e\.g\. 60s\), got "0s"$/ },
  "chaos --workers 99999 (ran out of memory: a heap per thread)": { argv: () => ["chaos", "--workers", "99999"], message: /^flinch chaos: --workers: expected a whole number from 1 to 256, got "99999"$/ },
  "chaos --runs 0": { argv: () => ["chaos", "--runs", "0"], message: /^flinch chaos: --runs: expected a whole number >= 1, got "0"$/ },
  "chaos --backend memroy": { argv: () => ["chaos", "--backend", "memroy"], message: /^flinch chaos: --backend: expected memory\|file\|kv\|all, got "memroy" \(did you mean memory\?\)$/ },
  "record --duration 30d (a timer would fire at once)": { argv: () => ["record", "--url", "ws://127.0.0.1:1/ws", "--out", P("r.jsonl"), "--duration", "30d"], message: /^flinch record: --duration: "30d" is too long/ },
  "serve --port 70000": { argv: () => ["serve", "--seed", "1", "--port", "70000"], message: /^flinch serve: --port: expected a whole number from 0 to 65535, got "70000"$/ },
  "serve --port 1e3": { argv: () => ["serve", "--seed", "1", "--port", "1e3"], message: /^flinch serve: --port: expected a whole number from 0 to 65535, got "1e3"$/ },
  "serve --minutes abc": { argv: () => ["serve", "--minutes", "abc"], message: /^flinch serve: --minutes: expected a whole number from 1 to 1440, got "abc"$/ },
  "serve --minutes 99999999 (would build the tape for ever)": { argv: () => ["serve", "--minutes", "99999999"], message: /^flinch serve: --minutes: expected a whole number from 1 to 1440/ },
  "serve --symbols ,,": { argv: () => ["serve", "--symbols", ",,"], message: /^flinch serve: --symbols: "" is not a symbol/ },
  "record --url unreachable": { argv: () => ["record", "--url", "ws://127.0.0.1:1/ws", "--out", P("r.jsonl"), "--count", "1"], message: /^flinch record: --url ws:\/\/127\.0\.0\.1:1\/ws: connect ECONNREFUSED/ },
  "serve --host that does not resolve": { argv: () => ["serve", "--seed", "1", "--minutes", "1", "--host", "nosuchhost.invalid"], message: /^flinch serve: getaddrinfo (ENOTFOUND|EAI_AGAIN) nosuchhost\.invalid$/ },
  "serve --host not on this machine": { argv: () => ["serve", "--seed", "1", "--minutes", "1", "--host", "192.0.2.1"], message: /^flinch serve: listen EADDRNOTAVAIL: address not available 192\.0\.2\.1/ },
  "record --url http://": { argv: () => ["record", "--url", "http://x", "--out", P("r.jsonl"), "--count", "1"], message: /^flinch record: --url must be a ws:\/\/ or wss:\/\/ URL$/ },
  "replay --parallelism 0": { argv: () => ["replay", P("ok.jsonl"), "--parallelism", "0"], message: /^flinch replay: --parallelism: expected a whole number >= 1, got "0"$/ },
  "replay --speed 0x": { argv: () => ["replay", P("ok.jsonl"), "--speed", "0x"], message: /^flinch replay: --speed: "0x" is not max, 1x or Nx$/ },
  "chaos --max-faults 0": { argv: () => ["chaos", "--max-faults", "0"], message: /^flinch chaos: --max-faults: expected a whole number >= 1, got "0"$/ },
  // #12: usage
  "unknown command": { argv: () => ["chaoss"], message: /^flinch: unknown command "chaoss" \(did you mean chaos\?\); see flinch --help$/ },
  "unknown command, nothing close": { argv: () => ["frobnicate"], message: /^flinch: unknown command "frobnicate"; see flinch --help$/ },
  "unknown option before the command": { argv: () => ["--verison"], message: /^flinch: unknown option "--verison" \(did you mean --version\?\)/ },
  "unknown flag": { argv: () => ["replay", P("ok.jsonl"), "--windw", "1m"], message: /^flinch replay: unknown flag --windw \(did you mean --window\?\)$/ },
  "unknown short flag": { argv: () => ["chaos", "-x"], message: /^flinch chaos: unknown flag -x; flags: / },
  "bench --bogus (no benchmark)": { argv: () => ["bench", "--bogus"], message: /^flinch bench: unknown flag --bogus; flags: --json$/ },
  "flag without its value": { argv: () => ["replay", P("ok.jsonl"), "--window"], message: /^flinch replay: --window needs a value$/ },
  "flag followed by a flag": { argv: () => ["replay", P("ok.jsonl"), "--out", "--json"], message: /^flinch replay: --out needs a value/ },
  "boolean with a value": { argv: () => ["chaos", "--json=yes"], message: /^flinch chaos: --json takes no value$/ },
  "stray argument": { argv: () => ["chaos", "extra"], message: /^flinch chaos: chaos takes no positional arguments/ },
  "replay without a fixture": { argv: () => ["replay"], message: /^flinch replay: replay needs at least one FIXTURE/ },
  "help for an unknown command": { argv: () => ["help", "replya"], message: /^flinch help: unknown command "replya" \(did you mean replay\?\)/ },
  // owned by other branches (their command bodies)
  "chaos --path 'garbage!!'": { argv: () => ["chaos", "--path", "garbage!!", "--runs", "1", "--out", P("out")], message: /^flinch chaos: --path/ },
  "_worker --spec invalid.json": { argv: () => ["_worker", "--spec", P("invalid.json"), "--root", P("w")], message: /^flinch _worker: .*invalid\.json/ },
};

describe("bad usage and bad paths: exit 2, one line, no stack", () => {
  for (const [name, row] of Object.entries(ROWS)) {
    (row.owner ? it.fails : it)(`${name}${row.owner ? ` (fixed in the ${row.owner} branch)` : ""}`, async () => {
      const r = await cli(row.argv());
      expect(r.code, r.err).toBe(2);
      expect(r.err.split("\n")).toHaveLength(1);
      expect(r.err).toMatch(row.message);
      expect(r.err).not.toMatch(/\n\s+at |:0:/);
      expect(r.out).toBe("");
    });
  }
});

describe("help and version never start work", () => {
  it.each([["run", "-h"], ["report", "-h"], ["bench", "--help"], ["chaos", "--runs", "999999", "--help"], ["replay", "--help"], ["help", "check"]])("%s %s: exit 0 with usage, description and examples", async (...argv) => {
    const r = await cli(argv);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    const name = argv[0] === "help" ? argv[1] : argv[0];
    expect(r.out).toMatch(new RegExp(`^flinch ${name}: \\S`));
    expect(r.out).toMatch(new RegExp(`^usage: flinch ${name}`, "m"));
    expect(r.out).toMatch(/^examples:\n {2}npx flinch /m);
    expect(r.out).toMatch(/^exit codes: 0 .* 3 internal error/m);
  });

  it("--version prints the package's version; --help lists the commands; no command is exit 2", async () => {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(await cli(["--version"])).toEqual({ code: 0, out: pkg.version, err: "" });
    const h = await cli(["--help"]);
    expect(h.code).toBe(0);
    for (const c of ["run", "chaos", "replay", "check", "report", "serve", "record", "convert", "bench"]) expect(h.out).toMatch(new RegExp(`^  ${c} +\\S`, "m"));
    expect(h.out).not.toMatch(/_worker/);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^usage: flinch COMMAND/m);
  });

  it("every flag a command accepts is in its help, and the help lists no other", async () => {
    const { HELP } = await import("./help.ts");
    // A command with subcommands lists the flags of all of them: each subcommand's parser names its own.
    for (const name of Object.keys(HELP).filter((n) => !HELP[n].subcommands)) {
      const r = await cli([name, "--zzzzzzzz"]);
      expect(r.code, `${name}: ${r.err}`).toBe(2);
      const accepted = (/; flags: (.*)$/.exec(r.err)?.[1] ?? "").split(" ").filter(Boolean).sort();
      const documented = HELP[name].options.map(([f]) => f.split(" ")[0]).sort();
      expect(documented, name).toEqual(accepted);
    }
  });
});

describe("internal errors: exit 3, one line, the stack only under --debug", () => {
  it("classifies user errors, filesystem errors on a path, and everything else", () => {
    expect(classify(Object.assign(new Error("bad"), { exitCode: 2 }))).toEqual({ code: 2, message: "bad" });
    expect(classify(Object.assign(new Error("ENOENT: …"), { code: "ENOENT", path: "/x/y" }))).toEqual({ code: 2, message: "/x/y: no such file or directory" });
    expect(classify(new TypeError("cannot read properties of undefined"))).toEqual({ code: 3, message: "cannot read properties of undefined" });
    expect(classify("a string")).toEqual({ code: 3, message: "a string" });
    expect(classify(Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:80"), { code: "EADDRINUSE", syscall: "listen" })).code).toBe(2);
    expect(classify(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" })).code).toBe(3);
  });

  it("prints one line, or the stack with --debug", () => {
    const lines: string[] = [];
    const e = vi.spyOn(console, "error").mockImplementation((...a) => void lines.push(a.join(" ")));
    try {
      expect(reportError("chaos", new RangeError("boom\nsecond line"), false)).toBe(3);
      expect(lines).toEqual(["flinch chaos: internal error: boom (run again with --debug for the stack)"]);
      lines.length = 0;
      expect(reportError("chaos", new RangeError("boom"), true)).toBe(3);
      expect(lines[0]).toBe("flinch chaos: internal error: boom");
      expect(lines[1]).toMatch(/^RangeError: boom\n\s+at /);
    } finally {
      e.mockRestore();
    }
  });

  it("--debug is accepted anywhere before -- and is not passed to the command", async () => {
    const r = await cli(["replay", "--debug", P("nope.jsonl")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.jsonl: no such file$/);
  });
});
