import * as fs from "node:fs";

/**
 * Inclusive time of named functions in a V8 .cpuprofile (a sample counts once per name on its
 * stack), optionally only under a frame named `--under X`: `tsx bench/inclusive.ts FILE [--under X] [--per N] NAME...`.
 * `--per N` also prints µs per unit (per trade, per checkpoint).
 */
interface Node { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
const args = process.argv.slice(2);
const file = args.shift()!;
let under: string | undefined;
let per = 0;
const names: string[] = [];
while (args.length) {
  const a = args.shift()!;
  if (a === "--under") under = args.shift();
  else if (a === "--per") per = Number(args.shift());
  else names.push(a);
}
const prof = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const parent = new Map<number, number>();
for (const x of prof.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const key = (id: number) => {
  const f = byId.get(id)!.callFrame;
  return `${f.functionName}@${f.url.replace(/^.*\/wt-perf\//, "")}`;
};
const stackCache = new Map<number, Set<string>>();
function stack(id: number): Set<string> {
  let s = stackCache.get(id);
  if (!s) {
    const p = parent.get(id);
    s = new Set(p === undefined ? [] : stack(p));
    s.add(byId.get(id)!.callFrame.functionName);
    s.add(key(id));
    stackCache.set(id, s);
  }
  return s;
}
const incl = new Map<string, number>(names.map((n) => [n, 0]));
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const st = stack(prof.samples[i]!);
  if (under && !st.has(under)) continue;
  const dt = prof.timeDeltas[i] ?? 0;
  total += dt;
  for (const n of names) if (st.has(n)) incl.set(n, incl.get(n)! + dt);
}
console.log(`total ${(total / 1000).toFixed(1)} ms${under ? ` under ${under}` : ""}`);
for (const [n, us] of incl) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%${per ? `  ${(us / per).toFixed(2).padStart(8)} µs/unit` : ""}  ${n}`);
