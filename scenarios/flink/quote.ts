/**
 * Replay lines for `flinch flink ...`. The chaos branch owns the project's one formatter
 * (scenarios/replay-line.ts, `formatReplayLine(command, args)`); it is not on this branch yet,
 * so this is the same contract, to be replaced by an import of it at merge.
 */
export function formatReplayLine(command: string, args: readonly string[]): string {
  return ["npx", "flinch", ...command.split(" "), ...args].map(shellQuote).join(" ");
}

export function shellQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
