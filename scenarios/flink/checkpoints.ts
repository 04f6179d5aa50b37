import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Flink's checkpoint directory: `<dir>/<jobId>/chk-<n>/_metadata`. A checkpoint is restorable
 * once its `_metadata` is written; a killed JVM leaves its last ones (and maybe a `chk-n`
 * without metadata: the checkpoint it died in). Every restarted JVM is a new job id, so the
 * newest restorable checkpoint is the newest `_metadata` over all job directories.
 */
export interface Retained {
  readonly dir: string;
  readonly id: number;
  readonly mtimeMs: number;
}

export function retainedCheckpoints(root: string): Retained[] {
  const out: Retained[] = [];
  if (!fs.existsSync(root)) return out;
  for (const job of fs.readdirSync(root)) {
    const jd = path.join(root, job);
    if (!fs.statSync(jd).isDirectory()) continue;
    for (const c of fs.readdirSync(jd)) {
      const m = /^chk-(\d+)$/.exec(c);
      if (!m) continue;
      const meta = path.join(jd, c, "_metadata");
      try {
        const st = fs.statSync(meta);
        if (st.size > 0) out.push({ dir: path.join(jd, c), id: Number(m[1]), mtimeMs: st.mtimeMs });
      } catch {
        // no _metadata: the checkpoint never completed
      }
    }
  }
  // Checkpoint ids continue across a restore (the new job counts on from the one it resumed), so the highest id is the newest.
  return out.sort((a, b) => a.id - b.id || a.mtimeMs - b.mtimeMs);
}

export function latestCheckpoint(root: string): Retained | undefined {
  const all = retainedCheckpoints(root);
  return all[all.length - 1];
}
