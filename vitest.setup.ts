import { afterAll } from "vitest";
import { closeIdleEnvs } from "./engine/state/kv/kv-env-pool.ts";

// Every test file: the kv environments its jobs left idle for reuse (engine/state/kv/kv-env-pool.ts)
// are closed and their directories removed, as a process's exit does; vitest's forks may be ended
// without that exit, and a job without a local directory keeps its environments in the OS's temp.
afterAll(closeIdleEnvs);
