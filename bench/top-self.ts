import * as fs from "node:fs";

/**
 * Reads a V8 .cpuprofile and prints the functions with the most self time (ms and %), so
 * docs/performance.md can quote them. `tsx bench/top-self.ts FILE.cpuprofile [N]`.
 */
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
const file = process.argv[2]!;
const n = Number(process.argv[3] ?? 25);
/** Count only samples under a frame of this name (e.g. executeSync), to leave set-up out. */
const under = process.argv[4] || undefined;
/** "file": sum self time per source file instead of per function. */
const byFile = process.argv[5] === "file";
const prof = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const parent = new Map<number, number>();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const inside = new Map<number, boolean>();
function isUnder(id: number): boolean {
  if (!under) return true;
  let r = inside.get(id);
  if (r === undefined) {
    const f = byId.get(id)!.callFrame.functionName;
    const p = parent.get(id);
    r = f === under || (p !== undefined && isUnder(p));
    inside.set(id, r);
  }
  return r;
}
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i]!;
  if (!isUnder(id)) continue;
  self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const agg = new Map<string, number>();
let total = 0;
for (const [id, us] of self) {
  const f = byId.get(id)!.callFrame;
  const name = byFile ? f.url.replace(/^.*\/wt-perf\//, "") || f.functionName : `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/wt-perf\//, "").replace(/^file:\/\//, "")}:${f.lineNumber + 1}`;
  agg.set(name, (agg.get(name) ?? 0) + us);
  total += us;
}
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
for (const [name, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
