/** Where the engine's warnings and deprecation hints go; the CLI and tests swap it. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  /** Detail nobody needs unless they ask: deprecation hints go here. Optional: absent, it is dropped. */
  debug?(message: string): void;
}

export const consoleLogger: Logger = {
  warn: (m) => console.warn(`flinch: ${m}`),
  info: (m) => console.error(`flinch: ${m}`),
};

const hinted = new WeakMap<Logger, Set<string>>();

/**
 * Logs a deprecation hint once per logger, at debug level. Flink marks FsStateBackend and
 * RestartStrategies @Deprecated in the API and says nothing at run time; the README's job
 * (DESIGN.md's, kept faithful) uses them, so a warning on every `npm start` would scold users
 * for the API this project shows them. The modern names are in the README next to the job.
 */
export function deprecated(log: Logger, oldName: string, replacement: string): void {
  let seen = hinted.get(log);
  if (!seen) hinted.set(log, (seen = new Set()));
  if (seen.has(oldName)) return;
  seen.add(oldName);
  log.debug?.(`${oldName} is deprecated; use ${replacement}`);
}
