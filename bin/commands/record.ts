import { closeSync, openSync, renameSync, writeSync } from "node:fs";
import WebSocket from "ws";
import { duration as durationFlag, parseArgs, str, UsageError } from "../args.ts";
import { InputError, outputFile } from "../paths.ts";

/**
 * `flinch record --url WS_URL --out F.jsonl [--count N | --duration D]`
 * Writes every text frame as `<recv_ns> <json>`, the format of the hftbacktest recordings in
 * ../shared/data; loadFixture reads it back. Written to F.tmp and renamed at the end. Ends at
 * --count, at --duration, or when the server closes the stream (`flinch serve` closes it with
 * 1000 "end of tape"), with a line saying which and whether --count was reached.
 */
/** The longest `--duration`: a Node timer fires at once past 2^31 - 1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function recordCommand(argv: string[]): Promise<number> {
  let url: string, out: string, count: number, duration: number;
  try {
    const a = parseArgs(argv, { values: ["url", "out", "count", "duration"], booleans: [] });
    if (a.positional.length) throw new UsageError(`unexpected argument ${a.positional[0]}`);
    url = str(a, "url") ?? "";
    out = str(a, "out") ?? "";
    if (!/^wss?:\/\//.test(url)) throw new UsageError("--url must be a ws:// or wss:// URL");
    if (!out) throw new UsageError("--out F.jsonl is required");
    outputFile(out, "--out");
    const c = str(a, "count");
    const d = durationFlag(a, "duration", MAX_TIMER_MS);
    if (c === undefined && d === undefined) throw new UsageError("give --count N or --duration D");
    count = c === undefined ? Infinity : Number(c);
    if (!(count > 0) || (c !== undefined && !Number.isInteger(count))) throw new UsageError(`--count: ${c} is not a positive integer`);
    duration = d === undefined ? Infinity : d;
  } catch (e) {
    if ((e as { exitCode?: unknown } | null)?.exitCode === 2) {
      console.error(`flinch record: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
  let r: Awaited<ReturnType<typeof record>>;
  try {
    r = await record(url, out, count, duration);
  } catch (e) {
    // Nothing received: the URL is unreachable or refused the stream (bad input, not a bug).
    console.error(`flinch record: ${new InputError(`--url ${url}: ${(e as Error).message}`).message}`);
    return 2;
  }
  if (r.closed && r.n < count) {
    // The server ended the stream (end of tape, or anything else): say so rather than wait for frames that will not come.
    const why = `${r.closed.code}${r.closed.reason ? ` "${r.closed.reason}"` : ""}`;
    const short = count < Infinity ? `; --count ${count} not reached` : "";
    console.log(`flinch record: the server closed the stream (${why}) after ${r.n} messages${short}; ${r.n} messages to ${out}`);
  } else console.log(`flinch record: ${r.n} messages to ${out}`);
  return 0;
}

export interface Recorded {
  /** Messages written. */
  n: number;
  /** Set when the connection closed before --count or --duration ended the recording. */
  closed?: { code: number; reason: string };
}

/** Records up to `count` messages or for `durationMs`, whichever ends first, or until the server closes the stream. */
export function record(url: string, out: string, count: number, durationMs: number): Promise<Recorded> {
  const tmp = `${out}.tmp`;
  const fd = openSync(tmp, "w");
  const origin = BigInt(Math.round(performance.timeOrigin * 1000)) * 1000n; // real-time: receive timestamps are the point of a recording
  let n = 0;
  let buf: string[] = [];
  const flush = () => {
    if (buf.length) writeSync(fd, buf.join(""));
    buf = [];
  };
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (err?: Error, closed?: { code: number; reason: string }) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      ws.terminate();
      flush();
      closeSync(fd);
      if (err && n === 0) return reject(err);
      renameSync(tmp, out);
      resolve({ n, closed });
    };
    if (durationMs < Infinity) timer = setTimeout(() => finish(), durationMs); // real-time: --duration
    ws.on("message", (data, isBinary) => {
      if (done || isBinary) return;
      const ns = origin + BigInt(Math.round(performance.now() * 1e6)); // real-time: receive time of this frame
      buf.push(`${ns} ${data.toString()}\n`);
      if (++n >= count) finish();
      else if (buf.length >= 1024) flush();
    });
    ws.on("error", (e) => finish(e));
    ws.on("close", (code, reason) => finish(undefined, { code, reason: reason.toString() }));
  });
}
