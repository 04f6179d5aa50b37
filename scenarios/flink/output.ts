import * as fs from "node:fs";
import * as path from "node:path";
import { parseCommittedLine, type CommittedRow } from "../committed.ts";

/**
 * What a real Flink run committed. FileSink keeps in-progress and pending part files hidden
 * (dot-prefixed); only the finished part files are output, so only those are read.
 */
export function readCommittedParts(dir: string): CommittedRow[] {
  const rows: CommittedRow[] = [];
  if (!fs.existsSync(dir)) return rows;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith(".") || e.name.startsWith("_")) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.startsWith("part-")) rows.push(...parseLines(fs.readFileSync(p, "utf8"), p));
    }
  };
  walk(dir);
  return rows;
}

/** Window lines of a print sink's stdout: every JSON line that is not a late record ("late> ..."). */
export function readPrinted(stdout: string, file = "<stdout>"): CommittedRow[] {
  return parseLines(stdout.split("\n").filter((l) => l.includes('{"symbol"') && !/^late(?::\d+)?> /.test(l)).join("\n"), file);
}

export interface LateRecord {
  readonly symbol: string;
  readonly id: number;
  readonly time: number;
  readonly quantity: string;
}

/** Late records of the side output, printed as `late> {...}`. */
export function readLate(stdout: string): LateRecord[] {
  return stdout.split("\n").filter((l) => /^late(?::\d+)?> /.test(l)).map((l) => JSON.parse(l.replace(/^late(?::\d+)?> /, "")) as LateRecord);
}

function parseLines(text: string, file: string): CommittedRow[] {
  return text.split("\n").flatMap((l, i) => (l.trim() ? [parseCommittedLine(l, file, i + 1)] : []));
}
