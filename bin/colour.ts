import { useColour } from "./progress.ts";

/**
 * Verdict colours for stdout: green for ✔/ok, red for ✘/VIOLATION, only on a terminal and never
 * under NO_COLOR, so piped output, CI logs and `--json` stay plain text. No dependency: four
 * SGR codes are all a verdict line needs.
 */
const SGR = { red: 31, green: 32, yellow: 33, bold: 1 } as const;
export type Hue = keyof typeof SGR;

export interface Paint {
  (hue: Hue, s: string): string;
  /** ✔ green, ✘ red, ? yellow. */
  mark(valid: boolean | "unknown"): string;
  /** "ok" green; anything else (VIOLATED, LIVENESS, CRASHED…) red. */
  verdict(word: string): string;
}

export function painter(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Paint {
  const on = useColour(stream, env);
  const paint = ((hue: Hue, s: string) => (on ? `\x1b[${SGR[hue]}m${s}\x1b[0m` : s)) as Paint;
  paint.mark = (valid) => (valid === true ? paint("green", "✔") : valid === false ? paint("red", "✘") : paint("yellow", "?"));
  paint.verdict = (word) => paint(word === "ok" ? "green" : "red", word);
  return paint;
}
