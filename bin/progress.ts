import cliProgress from "cli-progress";

/**
 * Progress of long work (chaos campaigns, process chaos, bench, long replays), always on stderr so
 * that `--json` keeps stdout to one JSON line. On a TTY: a cli-progress bar (runs done/total,
 * runs/s, findings, ETA), coloured unless NO_COLOR. Elsewhere (CI logs, pipes): one plain line
 * at most every 10 s, so a 7-minute campaign is never silent and a short one adds no noise.
 */
export interface Progress {
  update(done: number, findings: number): void;
  finish(summary: string): void;
}

export interface ProgressOptions {
  label: string;
  total?: number;
  stream?: NodeJS.WriteStream;
}

export function startProgress(opts: ProgressOptions): Progress {
  return createProgress(opts, () => performance.now()); // real-time: progress is for the person watching
}

/** Seconds between plain lines when stderr is not a terminal. */
export const PLAIN_INTERVAL_MS = 10_000;

/** Colour only on a terminal and never under NO_COLOR (https://no-color.org: any non-empty value). */
export function useColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

/** `createProgress` with an injectable clock (ms), so tests can assert the 10 s cadence without waiting. */
export function createProgress(opts: ProgressOptions, now: () => number): Progress {
  const stream = opts.stream ?? process.stderr;
  return stream.isTTY === true ? barProgress(opts, stream, now) : plainProgress(opts, stream, now);
}

function rate(done: number, ms: number): string {
  return ms > 0 ? ((done * 1000) / ms).toFixed(1) : "0.0";
}

function eta(done: number, total: number | undefined, ms: number): string {
  if (total === undefined || done <= 0 || done >= total) return "";
  return formatSeconds(Math.round((((total - done) * ms) / done) / 1000));
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

function plainProgress(opts: ProgressOptions, stream: NodeJS.WriteStream, now: () => number): Progress {
  const t0 = now();
  let last = t0;
  let finished = false;
  return {
    update(done, findings) {
      const t = now();
      if (finished || t - last < PLAIN_INTERVAL_MS) return;
      last = t;
      const of = opts.total === undefined ? "" : `/${opts.total}`;
      const left = eta(done, opts.total, t - t0);
      stream.write(`${opts.label}: ${done}${of} runs, ${rate(done, t - t0)} runs/s, ${plural(findings, "finding")}${left ? `, ETA ${left}` : ""}\n`);
    },
    finish(summary) {
      if (finished) return;
      finished = true;
      stream.write(`${summary}\n`);
    },
  };
}

const C = { cyan: "\x1b[36m", red: "\x1b[31m", green: "\x1b[32m", dim: "\x1b[2m", reset: "\x1b[0m" };

function barProgress(opts: ProgressOptions, stream: NodeJS.WriteStream, now: () => number): Progress {
  const colour = useColour(stream);
  const paint = (c: keyof typeof C, s: string) => (colour ? `${C[c]}${s}${C.reset}` : s);
  const t0 = now();
  const known = opts.total !== undefined;
  const format = known
    ? `${opts.label} ${paint("cyan", "{bar}")} {value}/{total} runs | {rate} runs/s | {findings} | ETA {left}`
    : `${opts.label} {value} runs | {rate} runs/s | {findings}`;
  const bar = new cliProgress.SingleBar({
    stream, format, fps: 10, barsize: 30, hideCursor: false, clearOnComplete: true, linewrap: false,
    barCompleteChar: "█", barIncompleteChar: "░",
  });
  const payload = (done: number, findings: number) => ({
    rate: rate(done, now() - t0),
    findings: findings > 0 ? paint("red", plural(findings, "finding")) : paint("green", "0 findings"),
    left: eta(done, opts.total, now() - t0) || "-",
  });
  // cli-progress redraws from a timer; the chaos loop is synchronous, so updates draw themselves
  // (synchronousUpdate), and the timer must not keep a finished or failed process alive.
  const unref = () => (bar as unknown as { timer?: NodeJS.Timeout | null }).timer?.unref();
  bar.start(opts.total ?? 0, 0, payload(0, 0));
  unref();
  let finished = false;
  return {
    update(done, findings) {
      if (finished) return;
      bar.update(done, payload(done, findings));
      unref();
    },
    finish(summary) {
      if (finished) return;
      finished = true;
      bar.stop();
      stream.write(`${summary}\n`);
    },
  };
}
