import { parseFixed } from "../engine/decimal.ts";

/** A window result as some engine committed it: read back from its output, not from its memory. */
export interface CommittedRow {
  readonly symbol: string;
  readonly start: number;
  readonly end: number;
  readonly quantity: bigint;
  readonly count: number;
}

export class OutputFormatError extends Error {
  override readonly name = "OutputFormatError";
  readonly exitCode = 2;
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

/**
 * Parses one output line: {"key"|"symbol", "start", "end", "quantity", "count"}; a print
 * sink's "N> " subtask prefix is accepted. `quantity` must be a decimal string (exact).
 */
export function parseCommittedLine(line: string, file = "<output>", lineNo = 0): CommittedRow {
  const json = line.replace(/^(?:[^{]*?\d+> |[^{]*?: )/, "");
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json);
  } catch (e) {
    throw new OutputFormatError(file, lineNo, `malformed JSON: ${(e as Error).message}`);
  }
  const symbol = o.symbol ?? o.key;
  if (typeof symbol !== "string") throw new OutputFormatError(file, lineNo, `missing "symbol" (or "key")`);
  for (const f of ["start", "end", "count"]) {
    if (!Number.isSafeInteger(o[f])) throw new OutputFormatError(file, lineNo, `field "${f}" must be an integer, got ${JSON.stringify(o[f])}`);
  }
  if (typeof o.quantity !== "string") throw new OutputFormatError(file, lineNo, `field "quantity" must be a decimal string (exact), got ${JSON.stringify(o.quantity)}`);
  let quantity: bigint;
  try {
    quantity = parseFixed(o.quantity);
  } catch (e) {
    throw new OutputFormatError(file, lineNo, `field "quantity": ${(e as Error).message}`);
  }
  return { symbol, start: o.start as number, end: o.end as number, quantity, count: o.count as number };
}
