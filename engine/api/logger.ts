/** Where the engine's warnings and deprecation hints go; the CLI and tests swap it. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
}

export const consoleLogger: Logger = {
  warn: (m) => console.warn(`flinch: ${m}`),
  info: (m) => console.error(`flinch: ${m}`),
};

const hinted = new WeakMap<Logger, Set<string>>();

/** Logs a deprecation hint once per logger, as Flink logs one per deprecated call site. */
export function deprecated(log: Logger, oldName: string, replacement: string): void {
  let seen = hinted.get(log);
  if (!seen) hinted.set(log, (seen = new Set()));
  if (seen.has(oldName)) return;
  seen.add(oldName);
  log.warn(`${oldName} is deprecated; use ${replacement}`);
}
