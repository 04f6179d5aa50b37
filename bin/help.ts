/**
 * What `flinch --help` and `flinch CMD --help` print. Plain data with no imports, so help and
 * --version load nothing else (the command modules load only when a command runs).
 * Every flag a command's parser accepts has a line here, and nothing else does (bin/cli-help.test.ts).
 */
export interface CommandHelp {
  /** One line: what the command does. */
  summary: string;
  usage: string;
  /** [flag with its value placeholder, what it does]. */
  options: readonly (readonly [string, string])[];
  examples: readonly string[];
  /** Left out of the command list (internal commands). */
  hidden?: boolean;
  /** A command whose first argument names a subcommand (`flink chaos`, `flink diff`). */
  subcommands?: readonly string[];
}

export const EXIT_CODES = "exit codes: 0 every property held; 1 a violation was found; 2 bad usage or bad input; 3 internal error (add --debug for the stack)";

export const HELP: Record<string, CommandHelp> = {
  run: {
    summary: "run the seed job over a generated tape, no faults: window sums, properties, a report",
    usage: "flinch run [--scenario NAME] [--seed S] [--parallelism N] [--out DIR] [--json]\n           [--checkpoint-dir DIR [--from DIR/checkpoints/job/chk-N | --resume]]",
    options: [
      ["--scenario NAME", "a named scenario (default seed-config)"],
      ["--seed S", "seed of the generated tape, a whole number (default 42)"],
      ["--parallelism N", "source and window parallelism (default: the scenario's)"],
      ["--checkpoint-dir DIR", "keep checkpoints (DIR/checkpoints/job/chk-N) and the sink's output (DIR/out) on the real disk"],
      ["--from DIR/checkpoints/job/chk-N", "start from this checkpoint or savepoint, at any --parallelism (Flink's run -s)"],
      ["--resume", "start from the latest valid checkpoint in --checkpoint-dir (corrupt ones are skipped and logged)"],
      ["--kill-at N", "SIGKILL this process at the N-th processing step (to try a resume)"],
      ["--out DIR", "where the report folder goes (default reports/out)"],
      ["--json", "print one JSON object as the last line of stdout"],
    ],
    examples: ["npx flinch run", "npx flinch run --seed 7 --json", "npx flinch run --checkpoint-dir /tmp/ck --resume --parallelism 3"],
  },
  chaos: {
    summary: "swarm chaos: each run draws a configuration and faults; any finding is shrunk to a replayable case",
    usage: "flinch chaos [--scenario NAME|all] [--spec FILE] [--job ./my-job.ts] [--backend memory|file|kv|all] [--mode exactly-once|at-least-once]\n             [--runs N] [--time-budget 60s] [--workers N] [--shard i/n] [--fixed DIM,...] [--kinds crash,kill,slow,lose,disk[:KIND],toxic,skew]\n             [--seed S] [--run I [--path P]] [--max-faults N] [--process] [--out DIR] [--json]\n             [--engine-seed E --faults PLAN [--config CFG]]   (one exact run)",
    options: [
      ["--scenario NAME|all", "scenario(s), comma-separated (default swarm: every configuration that must hold)"],
      ["--spec FILE", "a scenario file (JSON), e.g. the counterexample.json of a finding"],
      ["--job MODULE", "your own job module, checked against its fault-free reference run"],
      ["--backend memory|file|kv|all", "pin the state backend (default: drawn by the swarm)"],
      ["--mode exactly-once|at-least-once", "checkpointing mode (default: the scenario's)"],
      ["--runs N", "number of runs (default 100; 5 with --process)"],
      ["--time-budget D", "run until this much wall time has passed (e.g. 60s), then report"],
      ["--workers N", "runners, 1 to 256: this thread and N-1 worker threads (default: the machine's cores); results do not depend on it"],
      ["--shard i/n", "run only this shard of the runs (CI machines); results do not depend on it"],
      ["--fixed DIM,...", "dimensions the swarm keeps at the scenario's value (e.g. rescale,backend)"],
      ["--kinds LIST", "fault kinds to draw: crash, kill, slow, lose, toxic, skew, disk or disk:<kind>"],
      ["--seed S", "campaign seed, a whole number (default 42)"],
      ["--run I", "replay run I of the campaign (printed with every finding)"],
      ["--path P", "with --run: the fast-check shrink path of that run's finding"],
      ["--max-faults N", "most faults in one run (default 3; 2 with --process)"],
      ["--engine-seed E", "one exact run: the engine seed (printed with every finding)"],
      ["--faults PLAN", "one exact run: the fault plan, e.g. \"crash@checkpoint.ack#3[Window#1], disk:torn@chk-2/_metadata, skew[Source#0]-30000ms@60000ms\""],
      ["--config CFG", "one exact run: the drawn configuration (printed with every finding)"],
      ["--process", "real child processes killed with SIGKILL, resumed from disk"],
      ["--out DIR", "where the report folder goes (default reports/out)"],
      ["--json", "print one JSON object as the last line of stdout"],
    ],
    examples: ["npx flinch chaos", "npx flinch chaos --time-budget 60s --workers 2", "npx flinch chaos --scenario at-least-once --runs 200", "npx flinch chaos --job ./my-job.ts --runs 200", "npx flinch chaos --process --backend kv --runs 5"],
  },
  replay: {
    summary: "replay recorded trades through the seed job and check the committed windows against the oracle",
    usage: "flinch replay FIXTURE... [--backend memory|file] [--mode exactly-once|at-least-once] [--window 1m]\n              [--via sim|ws|intercept] [--speed max|1x|Nx] [--crash-every N] [--parallelism N] [--seed S]\n              [--lenient [--quarantine FILE]] [--allow-future] [--out DIR] [--json]\n              [--checkpoint-dir DIR [--from DIR/checkpoints/job/chk-N | --resume]]",
    options: [
      ["--backend memory|file", "state backend (default memory)"],
      ["--mode exactly-once|at-least-once", "checkpointing mode (default exactly-once)"],
      ["--window D", "tumbling window size, a whole number of ms from 1ms to 366d (default 1m)"],
      ["--via sim|ws|intercept", "source transport: simulated, a local websocket server, or intercepted Binance URLs"],
      ["--speed max|1x|Nx", "pace of --via ws|intercept (default max)"],
      ["--crash-every N", "crash the job every N records (N >= 1)"],
      ["--parallelism N", "source and window parallelism (default 1)"],
      ["--seed S", "engine seed, a whole number (default 1)"],
      ["--lenient", "quarantine bad lines (counted, written next to the report) instead of exit 2"],
      ["--quarantine FILE", "with --lenient: where the bad lines go (default beside the report/output)"],
      ["--allow-future", "accept trade times later than now + 1 day"],
      ["--checkpoint-dir DIR", "keep checkpoints (DIR/checkpoints/job/chk-N) and the sink's output (DIR/out) on the real disk"],
      ["--from DIR/checkpoints/job/chk-N", "start from this checkpoint or savepoint, at any --parallelism (Flink's run -s)"],
      ["--resume", "start from the latest valid checkpoint in --checkpoint-dir (corrupt ones are skipped and logged)"],
      ["--kill-at N", "SIGKILL this process at the N-th processing step (to try a resume)"],
      ["--out DIR", "where the report folder goes (default reports/out)"],
      ["--json", "print one JSON object as the last line of stdout"],
    ],
    examples: ["npx flinch replay fixtures/sim-btcusdt-ethusdt-3m.txt.gz", "npx flinch replay day1.jsonl day2.jsonl --crash-every 500 --parallelism 4 --json"],
  },
  check: {
    summary: "check any engine's window output against the oracle of a tape (exact sums, every window once)",
    usage: "flinch check --tape FIXTURE --output RESULTS.jsonl|SINK_DIR [--window 1m] [--lenient [--quarantine FILE]] [--allow-future] [--json]",
    options: [
      ["--tape FIXTURE", "the trades (comma-separated for several files)"],
      ["--output RESULTS.jsonl", 'the engine\'s windows, one {"symbol","start","end","quantity":"<decimal>","count"} per line'],
      ["--window D", "window size the output used (default 1m)"],
      ["--lenient", "quarantine bad tape lines (counted) instead of exit 2"],
      ["--quarantine FILE", "with --lenient: where the bad lines go (default beside the report/output)"],
      ["--allow-future", "accept trade times later than now + 1 day"],
      ["--json", "print one JSON object as the last line of stdout"],
    ],
    examples: ["npx flinch check --tape trades.jsonl --output flink-out.jsonl"],
  },
  report: {
    summary: "re-render a run's reports from its run.json",
    usage: "flinch report RUN_DIR [--format html,md,json,junit]",
    options: [["--format LIST", "formats to write (default all: html,md,json,junit)"]],
    examples: ["npx flinch report reports/out/20260101-120000-chaos-exactly-once-memory-s42", "npx flinch report RUN_DIR --format junit"],
  },
  serve: {
    summary: "serve a tape as Binance's websocket streams and REST endpoints until Ctrl-C; the market runs on its own clock",
    usage: "flinch serve [--fixture F]... | [--seed S] [--symbols A,B] [--minutes N] [--speed max|1x|Nx] [--loop] [--host 127.0.0.1] [--port 0]",
    options: [
      ["--fixture F", "a recorded tape (repeatable)"],
      ["--seed S", "generate a tape from this seed instead"],
      ["--symbols A,B", "symbols of a generated tape (default BTCUSDT,ETHUSDT)"],
      ["--minutes N", "length of a generated tape (default 10)"],
      ["--speed max|1x|Nx", "pace (default max)"],
      ["--loop", "play the tape again at its end, ids and times continuing (default: close streams with 1000 \"end of tape\")"],
      ["--host H", "address to listen on (default 127.0.0.1)"],
      ["--port N", "port (default 0: any free port; the URLs are printed)"],
    ],
    examples: ["npx flinch serve --seed 1 --speed 1x", "npx flinch serve --fixture trades.jsonl --port 9443"],
  },
  record: {
    summary: "record a websocket stream to a fixture (<recv_ns> <json> per line)",
    usage: "flinch record --url WS_URL --out F.jsonl [--count N | --duration D]",
    options: [
      ["--url WS_URL", "ws:// or wss:// stream URL"],
      ["--out F.jsonl", "the recording (written to F.jsonl.tmp, renamed at the end)"],
      ["--count N", "stop after N messages"],
      ["--duration D", "stop after this long (at most 24d)"],
    ],
    examples: ["npx flinch record --url ws://127.0.0.1:9443/ws/btcusdt@trade --out rec.jsonl --count 1000"],
  },
  convert: {
    summary: "convert a data.binance.vision trades CSV to a fixture",
    usage: "flinch convert TRADES.csv --symbol BTCUSDT --out F.jsonl [--lenient [--quarantine FILE]] [--allow-future]",
    options: [
      ["--symbol SYM", "the symbol of the file's trades"],
      ["--out F.jsonl", "the fixture to write"],
      ["--lenient", "quarantine bad lines (counted, default F.jsonl.quarantine.jsonl) instead of exit 2"],
      ["--quarantine FILE", "with --lenient: where the bad lines go"],
      ["--allow-future", "accept trade times later than now + 1 day"],
    ],
    examples: ["npx flinch convert BTCUSDT-trades-2024-08-08.csv --symbol BTCUSDT --out btc.jsonl"],
  },
  bench: {
    summary: "measure throughput, checkpoint cost and backends (takes minutes)",
    usage: "flinch bench [--json]",
    options: [["--json", "print one JSON object as the last line of stdout"]],
    examples: ["npx flinch bench", "npm run bench -- --json"],
  },
  flink: {
    summary: "the seed job on real Apache Flink 1.20 (a MiniCluster JVM): chaos at the named points, or a diff against flinch's engine",
    usage: "flinch flink chaos [FIXTURE...] [--jar J] [--backend hashmap|filesystem|rocksdb] [--mode exactly-once|at-least-once]\n                   [--sink file|print] [--parallelism N] [--runs N] [--seed S] [--faults PLAN] [--interval MS] [--window D]\n                   [--throttle-us N] [--buffer-timeout MS] [--barrier-delay MS] [--watermarks bounded|per-event] [--no-shrink] [--first] [--out DIR] [--json]\n  flinch flink diff FIXTURE... [--jar J] [--window 1m] [--watermarks bounded|none] [--out-of-orderness MS] [--json]",
    subcommands: ["chaos", "diff"],
    options: [
      ["--jar J", "the job jar (default flink/target/flinch-flink.jar, built with mvn -f flink/pom.xml package)"],
      ["--backend hashmap|filesystem|rocksdb", "chaos: Flink state backend (filesystem is the seed's FsStateBackend)"],
      ["--mode exactly-once|at-least-once", "chaos: checkpointing mode"],
      ["--sink file|print", "chaos: FileSink (exactly-once part files) or the seed's .print() (the teeth)"],
      ["--parallelism N", "chaos: job parallelism"],
      ["--runs N", "chaos: number of runs"],
      ["--seed S", "chaos: seed of the drawn fault plans"],
      ["--faults PLAN", "chaos: one plan, e.g. 'crash@checkpoint.complete#2,kill@checkpoint.metadata#3'"],
      ["--interval MS", "chaos: checkpoint interval"],
      ["--window D", "window size (default 1m)"],
      ["--throttle-us N", "chaos: microseconds per trade in the source (default 200)"],
      ["--buffer-timeout MS", "chaos: Flink's execution.buffer-timeout"],
      ["--barrier-delay MS", "chaos: hold barriers this long in the fault operator"],
      ["--watermarks MODE", "bounded (every 200 ms), per-event, or none (diff: noWatermarks on a bounded input)"],
      ["--out-of-orderness MS", "diff: the watermark bound"],
      ["--no-shrink", "chaos: report findings without shrinking"],
      ["--first", "chaos: stop at the first finding"],
      ["--out DIR", "chaos: report root (default reports/out): <DIR>/<run-id>/ gets report.html, report.md, run.json, junit.xml"],
      ["--json", "print one JSON object as the last line of stdout"],
    ],
    examples: ["npx flinch flink chaos --runs 20", "npx flinch flink chaos --backend rocksdb --runs 5", "npx flinch flink diff ../shared/data/binance-2024-08-08/*.jsonl"],
  },
  _worker: {
    summary: "one process of chaos --process (internal)",
    usage: "flinch _worker --spec F --root DIR [--resume]",
    options: [
      ["--spec F", "the scenario spec as JSON"],
      ["--root DIR", "the run's directory on disk"],
      ["--resume", "start from the latest retained checkpoint"],
    ],
    examples: [],
    hidden: true,
  },
};

const GLOBAL = [
  ["-h, --help", "show help (also: flinch help CMD)"],
  ["--version", "print the version"],
  ["--debug", "print the stack of an internal error"],
] as const;

function table(rows: readonly (readonly [string, string])[]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join("\n");
}

export function commandHelp(name: string): string {
  const h = HELP[name];
  return [
    `flinch ${name}: ${h.summary}`,
    "",
    `usage: ${h.usage}`,
    "",
    "options:",
    table([...h.options, ...GLOBAL.filter((g) => g[0] !== "--version")]),
    ...(h.examples.length ? ["", "examples:", ...h.examples.map((e) => `  ${e}`)] : []),
    "",
    EXIT_CODES,
  ].join("\n");
}

export function mainHelp(): string {
  const visible = Object.entries(HELP).filter(([, h]) => !h.hidden);
  return [
    "flinch: deterministic fault injection and simulation for Flink-style stream processing",
    "",
    "usage: flinch COMMAND [options]    (flinch COMMAND --help for its options and examples)",
    "",
    "commands:",
    table(visible.map(([n, h]) => [n, h.summary])),
    "",
    "options:",
    table(GLOBAL),
    "",
    "examples:",
    "  npx flinch run",
    "  npx flinch chaos --runs 200",
    "  npx flinch replay trades.jsonl --crash-every 500",
    "",
    EXIT_CODES,
  ].join("\n");
}
