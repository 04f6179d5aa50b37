/**
 * Scenarios and checks: describe a job, a feed and a fault plan; run it in simulation or under
 * property-based chaos; check committed windows against the oracle (exact sums, once, conserved).
 */
export * from "./spec.ts";
export * from "./run-scenario.ts";
export * from "./chaos.ts";
export * from "./process-chaos.ts";
export * from "./checkers.ts";
export * from "./oracle.ts";
export * from "./committed.ts";
export * from "./seed-config.ts";
