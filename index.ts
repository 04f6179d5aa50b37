/**
 * `import { StreamExecutionEnvironment, runChaos, checkOracle } from "flinch"`: the engine API and
 * connectors, the simulated Binance exchange and tapes, scenarios, chaos and the checkers.
 */
export * from "./engine/index.ts";
export * from "./scenarios/index.ts";
export { loadFixture, loadFixtures, FixtureError } from "./sim/binance/fixtures.ts";
export { generateTape } from "./sim/binance/generator.ts";
export type { Tape } from "./sim/binance/tape.ts";
export { startExchangeServer } from "./sim/binance/server/server.ts";
export { writeReport, readRunModel } from "./reports/write-report.ts";
