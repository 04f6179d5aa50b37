import { commandHelp, HELP, mainHelp } from "./help.ts";
import { closest } from "./suggest.ts";
import { version } from "./version.ts";

/**
 * The commands, loaded only when one runs: `--help` and `--version` import nothing but help.ts,
 * and one command does not pay for the others' modules (the engine, lmdb, ws, the exchange).
 */
const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  run: async () => (await import("./commands/run.ts")).runCommand,
  chaos: async () => (await import("./commands/chaos.ts")).chaosCommand,
  replay: async () => (await import("./commands/replay.ts")).replayCommand,
  check: async () => (await import("./commands/check.ts")).checkCommand,
  report: async () => (await import("./commands/report.ts")).reportCommand,
  serve: async () => (await import("./commands/serve.ts")).serveCommand,
  record: async () => (await import("./commands/record.ts")).recordCommand,
  convert: async () => (await import("./commands/convert.ts")).convertCommand,
  _worker: async () => (await import("./commands/worker.ts")).workerCommand,
  bench: async () => (await import("./commands/bench.ts")).benchCommand,
};

/**
 * The whole CLI as a function: tests call it in process; bin/flinch.ts calls it with argv.
 * Exit codes: 0 every property held; 1 a violation; 2 bad usage or bad input (any error with
 * `exitCode === 2`, one line); 3 an internal error (one line; the stack only under --debug).
 */
export async function main(argv: string[]): Promise<number> {
  const end = argv.indexOf("--");
  const opts = end < 0 ? argv : argv.slice(0, end);
  const debug = opts.includes("--debug");
  const args = debug ? [...opts.filter((a) => a !== "--debug"), ...(end < 0 ? [] : argv.slice(end))] : argv;
  const [cmd, ...rest] = args;
  if (cmd === undefined) {
    console.error(mainHelp());
    return 2;
  }
  if (cmd === "--help" || cmd === "-h") {
    console.log(mainHelp());
    return 0;
  }
  if (cmd === "help") return help(rest[0]);
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    console.log(version());
    return 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    const what = cmd.startsWith("-") ? "unknown option" : "unknown command";
    const guess = closest(cmd, cmd.startsWith("-") ? ["--help", "--version", "--debug"] : Object.keys(COMMANDS).filter((c) => !HELP[c]?.hidden));
    console.error(`flinch: ${what} ${JSON.stringify(cmd)}${guess ? ` (did you mean ${guess}?)` : ""}; see flinch --help`);
    return 2;
  }
  // Help before anything else: `bench --help` must not start the benchmark, `run -h` must not run.
  const own = rest.indexOf("--");
  const flags = own < 0 ? rest : rest.slice(0, own);
  if (flags.includes("--help") || flags.includes("-h")) {
    console.log(commandHelp(cmd));
    return 0;
  }
  try {
    const fn = await load();
    return await fn(rest);
  } catch (e) {
    return reportError(cmd, e, debug);
  }
}

function help(name: string | undefined): number {
  if (name === undefined) {
    console.log(mainHelp());
    return 0;
  }
  if (!HELP[name]) {
    const guess = closest(name, Object.keys(HELP));
    console.error(`flinch help: unknown command ${JSON.stringify(name)}${guess ? ` (did you mean ${guess}?)` : ""}; see flinch --help`);
    return 2;
  }
  console.log(commandHelp(name));
  return 0;
}

/** Filesystem errors on a path the user gave (a missing file, a directory where a file goes): bad input, exit 2. */
const FS_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EEXIST: "already exists",
  ENOSPC: "no space left on device",
  ENAMETOOLONG: "name too long",
};

/** Network errors on an address the user gave (--host, --port, --url): bad input too. */
const NET_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EADDRINUSE", "EADDRNOTAVAIL", "ECONNREFUSED", "EACCES"]);

export function classify(e: unknown): { code: 2 | 3; message: string } {
  const err = e as { exitCode?: unknown; code?: unknown; path?: unknown; message?: unknown; syscall?: unknown } | null;
  if (err && err.exitCode === 2) return { code: 2, message: String(err.message) };
  if (err && typeof err.code === "string" && typeof err.path === "string" && FS_REASONS[err.code]) {
    return { code: 2, message: `${err.path}: ${FS_REASONS[err.code]}` };
  }
  if (err && typeof err.code === "string" && NET_CODES.has(err.code) && (err.syscall === "listen" || err.syscall === "getaddrinfo" || err.syscall === "connect")) {
    return { code: 2, message: String(err.message) };
  }
  const message = err && typeof err.message === "string" ? err.message : String(e);
  return { code: 3, message };
}

export function reportError(cmd: string, e: unknown, debug: boolean): number {
  const { code, message } = classify(e);
  if (code === 2) {
    console.error(`flinch ${cmd}: ${oneLine(message, cmd)}`);
  } else {
    const first = message.split("\n")[0];
    console.error(`flinch ${cmd}: internal error: ${first}${debug ? "" : " (run again with --debug for the stack)"}`);
    if (debug && e instanceof Error && e.stack) console.error(e.stack);
  }
  return code;
}

/** A user error on one line: a list joined, a usage block replaced by where to find it. */
function oneLine(message: string, cmd: string): string {
  const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
  const usage = lines.findIndex((l) => l.startsWith("usage:"));
  const kept = usage < 0 ? lines : lines.slice(0, usage);
  return kept.join(" ") + (usage < 0 ? "" : ` (see flinch ${cmd} --help)`);
}
