/**
 * Progress of a long command on stderr (stdout stays one JSON line under --json). On a TTY: a
 * bar with runs done/total, runs/s, findings and ETA, in colour unless NO_COLOR. Otherwise one
 * plain line at most every 10 s, for CI logs. (The cli engineer owns this file; this is the
 * agreed API, written here so chaos can use it before that branch merges.)
 */
export interface Progress {
  update(done: number, findings: number): void;
  finish(summary: string): void;
}

export function startProgress(opts: { label: string; total?: number; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const colour = tty && !process.env.NO_COLOR;
  const t0 = Date.now(); // real-time: progress is about wall time
  let last = 0;
  let shown = false;
  const line = (done: number, findings: number): string => {
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const total = opts.total;
    const eta = total !== undefined && rate > 0 ? ` ETA ${Math.max(0, Math.round((total - done) / rate))}s` : "";
    const f = findings ? (colour ? `\x1b[31m${findings} findings\x1b[0m` : `${findings} findings`) : "0 findings";
    const bar = total !== undefined && tty ? `[${"#".repeat(Math.round((done / Math.max(1, total)) * 20)).padEnd(20, ".")}] ` : "";
    return `${opts.label}: ${bar}${done}${total !== undefined ? `/${total}` : ""} runs, ${rate.toFixed(1)} runs/s, ${f}${eta}`;
  };
  return {
    update(done, findings) {
      const now = Date.now(); // real-time: see above
      if (tty) {
        if (now - last < 100) return;
        last = now;
        shown = true;
        stream.write(`\r\x1b[2K${line(done, findings)}`);
      } else if (now - last >= 10_000) {
        if (last !== 0 || now - t0 >= 10_000) stream.write(`${line(done, findings)}\n`);
        last = now;
      }
    },
    finish(summary) {
      if (tty && shown) stream.write(`\r\x1b[2K`);
      if (summary) stream.write(`${opts.label}: ${summary}\n`);
    },
  };
}
