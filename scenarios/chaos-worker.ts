import * as fs from "node:fs";
import * as path from "node:path";
import { parentPort, threadId, workerData } from "node:worker_threads";
import { ChaosCampaign } from "./chaos.ts";
import { loadJobModule } from "./jobs/job-module.ts";
import { claim, portable, startClaiming, stopClaims, type FromWorker, type ToWorker, type WorkerData } from "./chaos-pool.ts";
import { makeScratchDir } from "./scratch-dir.ts";
import { closeIdleEnvs } from "../engine/state/kv/kv-env-pool.ts";

/**
 * A chaos worker thread: loads its modules, takes the calibration the pool's thread ran (so it
 * does not run the fault-free job again), then claims run indices from the counter it shares with
 * every runner until none is left or the campaign stops, and sends back each record and finding.
 * Runs are independent (each draws from its own seed), so which thread ran one does not change
 * its result.
 */
const { options, claims, slot } = workerData as WorkerData;
// kv working directories are named by pid and a per-thread counter (engine/state/kv): threads of
// one process would collide in a shared directory, so each thread gets its own.
const kvLocalDir = options.kvLocalDir ? fs.mkdtempSync(path.join(options.kvLocalDir, `t${threadId}-`)) : makeScratchDir(`flinch-chaos-t${threadId}-`);
const o = { ...options, kvLocalDir };
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const fail = (e: unknown) => {
  stopClaims(claims);
  send({ kind: "error", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), exitCode: (e as { exitCode?: number })?.exitCode });
};
const done = () => {
  closeIdleEnvs();
  fs.rmSync(kvLocalDir, { recursive: true, force: true });
  port.close(); // nothing else keeps the thread alive: it exits
};
try {
  if (o.spec.job.module !== undefined) await loadJobModule(o.spec.job.module);
  port.once("message", (m: ToWorker) => {
    try {
      const campaign = new ChaosCampaign({ ...o, passages: m.passages });
      if (!startClaiming(claims, slot)) return done();
      let i: number | undefined;
      while ((i = claim(claims)) !== undefined) {
        const before = campaign.failures.length;
        const record = campaign.step(i);
        if (record.outcome !== "passed" && o.stopOnFailure !== false) stopClaims(claims);
        send({ kind: "record", record, failures: campaign.failures.slice(before).map(portable) });
      }
      done();
    } catch (e) {
      fail(e);
    }
  });
} catch (e) {
  fail(e);
}
