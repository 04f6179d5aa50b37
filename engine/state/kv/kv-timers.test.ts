import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { test, fc } from "@fast-check/vitest";
import { TimerService, type Timer, type TimerQueue } from "../timers.ts";
import { KvTimerService } from "./kv-timers.ts";

let root: string;
let n = 0;
beforeAll(() => void (root = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-kv-timers-"))));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

type Step = { op: "reg"; ts: number; kg: number; key: string | number; ns: number } | { op: "adv"; wm: number } | { op: "snap" };
const steps = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant("reg" as const), ts: fc.integer({ min: -5, max: 60 }), kg: fc.integer({ min: 0, max: 3 }), key: fc.oneof(fc.constantFrom("a", "b", ""), fc.integer({ min: -2, max: 2 })), ns: fc.integer({ min: 0, max: 2 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("adv" as const), wm: fc.oneof(fc.integer({ min: -10, max: 70 }), fc.constant(Infinity)) }) },
    { weight: 1, arbitrary: fc.constant({ op: "snap" as const }) },
  ),
  { maxLength: 80 },
);

function drive(q: TimerQueue, script: Step[]): string[] {
  const log: string[] = [];
  for (const s of script) {
    if (s.op === "reg") q.register(s.key, s.kg, s.ns, s.ts);
    else if (s.op === "adv") {
      const fired: Timer[] = [];
      q.advance(s.wm, (t) => void fired.push(t));
      // Firing order is by timestamp on both; ties may order differently (key bytes vs strings).
      for (let i = 1; i < fired.length; i++) if (fired[i].timestamp < fired[i - 1].timestamp) log.push("OUT OF ORDER");
      log.push(`fired@${s.wm}: ${fired.map((t) => `${t.timestamp}/${t.keyGroup}/${typeof t.key}${t.key}/${t.namespace}`).sort().join(",")}`);
    } else log.push(`snap: ${JSON.stringify(q.snapshot().map((g) => [g.keyGroup, [...g.timers].map((t) => JSON.stringify(t)).sort()]))}`);
    log.push(`size=${q.size()}`);
  }
  return log;
}

test.prop([steps], { numRuns: 200 })("lmdb timers fire, dedupe and snapshot exactly like the heap timers", (script) => {
  const kv = new KvTimerService(path.join(root, `t${n++}.mdb`));
  try {
    expect(drive(kv, script)).toEqual(drive(new TimerService(), script));
  } finally {
    kv.close();
  }
});
