import { FixtureError } from "../sim/binance/fixtures.ts";
import { ConfigurationError } from "../engine/api/config.ts";
import { JobGraphValidationError } from "../engine/runtime/validate.ts";
import { OutputFormatError } from "../scenarios/committed.ts";
import { UsageError } from "./args.ts";
import { chaosCommand, CHAOS_USAGE } from "./commands/chaos.ts";
import { checkCommand, CHECK_USAGE } from "./commands/check.ts";
import { replayCommand, REPLAY_USAGE } from "./commands/replay.ts";
import { reportCommand, REPORT_USAGE } from "./commands/report.ts";
import { runCommand, RUN_USAGE } from "./commands/run.ts";
import { serveCommand } from "./commands/serve.ts";
import { recordCommand } from "./commands/record.ts";
import { convertCommand } from "./commands/convert.ts";
import { workerCommand } from "./commands/worker.ts";
import { flinkCommand } from "./commands/flink.ts";

const USAGE = `usage:
  ${RUN_USAGE}
  ${CHAOS_USAGE}
  ${REPLAY_USAGE}
  ${CHECK_USAGE}
  ${REPORT_USAGE}
  flinch serve   [--fixture F]... | [--seed S] [--symbols A,B] [--minutes N] [--speed max|1x|Nx] [--host 127.0.0.1] [--port 0]
  flinch record  --url WS_URL --out F.jsonl [--count N | --duration D]
  flinch convert TRADES.csv --symbol BTCUSDT --out F.jsonl [--lenient]
  flinch bench [--json]

Exit codes: 0 every property held; 1 a violation was found; 2 bad usage or bad input.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  run: runCommand,
  chaos: chaosCommand,
  replay: replayCommand,
  check: checkCommand,
  report: reportCommand,
  serve: serveCommand,
  record: recordCommand,
  convert: convertCommand,
  _worker: workerCommand,
  flink: flinkCommand,
  bench: async (argv) => (await import("../bench/index.ts")).benchCommand(argv),
};

/** The whole CLI as a function: tests call it in process; bin/flinch.ts calls it with argv. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const fn = COMMANDS[cmd];
  if (!fn) {
    console.error(`flinch: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
    return 2;
  }
  try {
    return await fn(rest);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigurationError) {
      console.error(`flinch ${cmd}: ${e.message}`);
      return 2;
    }
    if (e instanceof FixtureError || e instanceof OutputFormatError || e instanceof JobGraphValidationError) {
      console.error(`flinch ${cmd}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

