/**
 * The one formatter of replay lines: every command that prints "the exact command that replays
 * this" uses it, so the line runs as printed (`npx flinch` works from a clone and from an
 * installed package). Every argument is shell-quoted: a fault plan such as
 * `crash@checkpoint.ack#3[Window#1]` holds characters a shell would expand.
 */
export function formatReplayLine(command: string, args: readonly string[]): string {
  return ["npx", "flinch", command, ...args].map(shellQuote).join(" ");
}

/** POSIX shell quoting: bare when only safe characters, else single quotes ('\'' for a quote). */
export function shellQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The inverse, for tests and `--replay`: splits a line formatReplayLine produced back into words. */
export function splitShellWords(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${JSON.stringify(line)}`);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (ch === " ") {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
