import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FORBIDDEN = /\b(Date\.now|Math\.random|performance\.now|setTimeout|setInterval)\s*\(/;

function* sources(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) yield p;
  }
}

it("engine/ and sim/ take time and randomness only from the kernel (real-network adapters aside)", () => {
  const hits: string[] = [];
  let scanned = 0;
  for (const dir of ["engine", "sim"]) {
    for (const file of sources(path.join(root, dir))) {
      scanned++;
      const rel = path.relative(root, file);
      if (/[/\\]adapters?[/\\]/.test(rel)) continue;
      fs.readFileSync(file, "utf8").split("\n").forEach((line, i) => {
        if (FORBIDDEN.test(line) && !/\/\/ real-time:/.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  expect(scanned).toBeGreaterThan(30);
  expect(hits).toEqual([]);
});
