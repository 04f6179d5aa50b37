import { describe, expect, it } from "vitest";
import { loadMutants, locate, runMutant } from "../scripts/teeth.ts";

/**
 * The mutants of mutants/ must keep applying as the engine moves (each is a search/replace on a
 * snippet that must occur exactly once), and plain `flinch chaos` must find them. All of them
 * run in `npm run teeth`; here one, end to end in a copy of the repository, to keep CI bounded.
 */
describe("teeth: seeded protocol bugs", () => {
  it("every mutant still applies to exactly one place in the engine", () => {
    const mutants = loadMutants();
    expect(mutants.length).toBeGreaterThanOrEqual(9);
    for (const m of mutants) expect(locate(m), m.name).toMatch(/^engine\//);
  });

  it("plain flinch chaos finds the unsynced-rename mutant (fsync-dir) within its budget", () => {
    const m = loadMutants().find((x) => x.name === "fsync-dir")!;
    const r = runMutant(m, "60s", 1, ["--fixed", "rescale", "--kinds", "crash,kill,slow,toxic,disk:enospc,disk:torn,disk:lost"]);
    expect(r.found, JSON.stringify(r)).toBe(true);
    expect(r.replay).toMatch(/^npx flinch chaos --scenario swarm /);
  }, 180_000);

  it("a task slow for several checkpoints that then dies exposes the off-by-one sink commit (sink-commit-timing), and only with the mutant", () => {
    // The shrunk finding of a teeth run: the spell's checkpoints overlap their completion notices,
    // the sink commits checkpoint n+1's output on n's notice, and the death restores from n.
    const exact = ["--scenario", "swarm", "--engine-seed", "635016642", "--faults", "slow@checkpoint.async-write#48+19526ms*10>crash, disk:enospc+4802"];
    const m = loadMutants().find((x) => x.name === "sink-commit-timing")!;
    const found = runMutant(m, "", 1, exact);
    expect(found.found, JSON.stringify(found)).toBe(true);
    expect(found.message).toMatch(/committed 2 times/);
    expect(runMutant(undefined, "", 1, exact).found).toBe(false);
  }, 120_000);
});
