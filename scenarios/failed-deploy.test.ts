import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parsePlan } from "../sim/faults/fault-plan.ts";
import { runCase } from "./outcome.ts";
import { SCENARIOS } from "./spec.ts";
import { closeIdleEnvs } from "../engine/state/kv/kv-env-pool.ts";
import { parseConfig } from "./swarm.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flinch-deploy-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("a deploy that fails part-way releases what it opened", () => {
  it("kv backends of the tasks deployed before the failure are disposed, none left open (a campaign shrinking such runs ran out of file descriptors)", () => {
    // A slow write that ends in a kill and a failing write that ends in a crash: one of the
    // restarts fails while its tasks are being deployed, after some kv backends were opened.
    const config = parseConfig("backend=kv,incremental=true,checkpointIntervalMs=2000,maxConcurrent=3,tolerableFailures=1,windowParallelism=3,unaligned=5000,compactAfter=2,asyncMs=1000");
    const faults = parsePlan("slow@checkpoint.async-write#13+1139068ms>kill, disk:eio-write#13>crash");
    const { outcome } = runCase(SCENARIOS.swarm.spec, { engineSeed: 18, config, faults }, { kvLocalDir: dir });
    expect(outcome.kind).toBe("passed");
    // Disposed environments wait, emptied, for the next run's tasks (kv-env-pool.ts); closing those
    // must leave nothing, so no backend was left open.
    closeIdleEnvs();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
