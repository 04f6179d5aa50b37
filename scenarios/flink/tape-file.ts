import * as fs from "node:fs";
import type { Tape } from "../../sim/binance/tape.ts";

/**
 * The pre-parsed tape the Java side reads (`BinanceWebSocketSource.fromTape`): one trade a line,
 * `SYMBOL\tid\ttimeMs\tquantityUnits\tarrivalMs` (1e-8 units, exact; arrival is the exchange's
 * send time E), each symbol in the tape's id order. The Java source merges the symbols by arrival,
 * as flinch's simulated feed delivers them.
 * Both engines then read exactly the same trades: no second JSON parser to disagree.
 */
export function writeTapeFile(tape: Tape, file: string): void {
  const lines: string[] = [];
  for (const s of [...tape.symbols].sort()) for (const t of tape.bySymbol.get(s) ?? []) lines.push(`${s}\t${t.id}\t${t.time}\t${t.quantity}\t${t.eventTime}`);
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/** Per symbol, the first and last trade id: the bounds of a finite run over `flinch serve`. */
export function symbolRanges(tape: Tape): string {
  return [...tape.symbols].sort().map((s) => {
    const t = tape.bySymbol.get(s)!;
    return `${s}:${t[0].id}:${t[t.length - 1].id}`;
  }).join(",");
}
