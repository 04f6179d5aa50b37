// A chaos worker thread started from TypeScript sources (tsx, vitest): threads do not inherit the
// parent's loader, so register tsx here, then load the real entry. dist/ uses chaos-worker.js directly.
import { register } from "tsx/esm/api";

register();
await import(new URL("./chaos-worker.ts", import.meta.url).href);
