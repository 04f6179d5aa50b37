import type { Fault } from "../../sim/faults/fault-plan.ts";
import type { Tape } from "../../sim/binance/tape.ts";

/**
 * `replay --crash-every N`: a crash each time the replay reaches another N records of the tape,
 * placed before the run from the tape alone. Record r (1-based, in arrival order over all
 * symbols) arrives at the simulated exchange's publish time: the running maximum of its
 * symbol's event times (sim-feed.ts). Crash k is `crash@task.process#1/from=<arrival of record
 * k·N>`: the first step of any task at or after that virtual time. Every such crash fires (a
 * step delivers each record at or after its arrival), so the count — and with it the restart
 * bound — is known up front: floor(trades / N). The plan depends on nothing but the tape and
 * N, so the printed replay line reproduces the run, whatever a trade costs the engine in steps.
 */
export function crashPlan(tape: Tape, every: number): Fault[] {
  const lists = tape.symbols.map((s) => tape.bySymbol.get(s) ?? []);
  const pos = lists.map(() => 0);
  const top = lists.map(() => -Infinity); // running maximum of E per symbol
  const faults: Fault[] = [];
  let seen = 0;
  for (;;) {
    // The next arrival over all symbols (a handful: a linear pick beats a heap).
    let best = -1;
    let bestAt = Infinity;
    for (let i = 0; i < lists.length; i++) {
      if (pos[i] >= lists[i].length) continue;
      const at = Math.max(top[i], lists[i][pos[i]].eventTime);
      if (at < bestAt) (best = i), (bestAt = at);
    }
    if (best < 0) return faults;
    top[best] = bestAt;
    pos[best]++;
    if (++seen % every === 0) faults.push({ kind: "crash", point: "task.process", occurrence: 1, from: bestAt });
  }
}
