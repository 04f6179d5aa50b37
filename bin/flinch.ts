#!/usr/bin/env node
import { main, reportError } from "./main.ts";

// Anything that escapes main (an error thrown from a socket callback, a rejected promise nobody
// awaited) is still one line and exit 3 (or 2 for a user error), never a raw stack trace.
const argv = process.argv.slice(2);
const debug = argv.includes("--debug");
const fatal = (e: unknown) => {
  process.exitCode = reportError(argv[0] ?? "", e, debug);
  process.exit();
};
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
process.exitCode = await main(argv);
