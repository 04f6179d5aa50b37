import { main } from "./main.ts";

/**
 * For tests: the whole CLI in process, with what it prints on the console captured instead of shown
 * (stdout lines, and stderr lines from console.error and console.warn).
 */
export async function captureCli(argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = [console.log, console.error, console.warn] as const;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = console.warn = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    return { code: await main([...argv]), out: out.join("\n"), err: err.join("\n") };
  } finally {
    [console.log, console.error, console.warn] = saved;
  }
}
