import * as fs from "node:fs";
import * as path from "node:path";
import { parentPort, threadId, workerData } from "node:worker_threads";
import { ChaosCampaign, type ChaosOptions } from "./chaos.ts";
import { loadJobModule } from "./jobs/job-module.ts";
import { portable, type FromWorker, type ToWorker } from "./chaos-pool.ts";
import { makeScratchDir } from "./scratch-dir.ts";

/**
 * A chaos worker thread: loads its modules, takes the calibration the pool's thread ran (so it
 * does not run the fault-free job again), then runs whichever run indices the pool hands it,
 * one at a time, and sends back each record and finding. Runs are independent (each draws from
 * its own seed), so which thread ran one does not change its result.
 */
// kv working directories are named by pid and a per-thread counter (engine/state/kv): threads of
// one process would collide in a shared directory, so each thread gets its own.
const kvLocalDir = workerData?.kvLocalDir ? fs.mkdtempSync(path.join(workerData.kvLocalDir as string, `t${threadId}-`)) : makeScratchDir(`flinch-chaos-t${threadId}-`);
const o = { ...(workerData as ChaosOptions), kvLocalDir };
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const fail = (e: unknown) => send({ kind: "error", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), exitCode: (e as { exitCode?: number })?.exitCode });
try {
  if (o.spec.job.module !== undefined) await loadJobModule(o.spec.job.module);
  let campaign: ChaosCampaign | undefined;
  port.on("message", (m: ToWorker) => {
    if (m.kind === "stop") {
      fs.rmSync(kvLocalDir, { recursive: true, force: true });
      return void port.close();
    }
    try {
      if (m.kind === "calibrated") {
        campaign = new ChaosCampaign({ ...o, passages: m.passages });
        return send({ kind: "ready" });
      }
      const before = campaign!.failures.length;
      const record = campaign!.step(m.index);
      send({ kind: "record", record, failures: campaign!.failures.slice(before).map(portable) });
    } catch (e) {
      fail(e);
    }
  });
} catch (e) {
  fail(e);
}
