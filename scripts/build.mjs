// `npm run build` (and `prepare`, so `npm ci` and `npm pack` build too): TypeScript to dist/
// with .ts import specifiers rewritten to .js, plus the data files the code reads at run time.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { stdio: "inherit" });
cpSync("reports/run-model.schema.json", "dist/reports/run-model.schema.json");
chmodSync("dist/bin/flinch.js", 0o755);
