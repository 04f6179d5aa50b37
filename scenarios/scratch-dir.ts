import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * Where a chaos run's scratch state goes: the kv backend's working directories (lmdb
 * environments, like Flink's RocksDB local directories). They hold nothing durable (checkpoints
 * go through the run's simulated Fs), so on Linux they live in RAM (/dev/shm): creating and
 * deleting a few lmdb environments per run on a real disk cost more than the run itself.
 */
export function scratchRoot(): string {
  if (process.platform === "linux") {
    try {
      fs.accessSync("/dev/shm", fs.constants.W_OK);
      return "/dev/shm";
    } catch {
      // no writable tmpfs: the OS temp directory
    }
  }
  return os.tmpdir();
}

/** A fresh scratch directory of its own (a worker thread's: kv directory names are per process). */
export function makeScratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(scratchRoot(), prefix));
}
