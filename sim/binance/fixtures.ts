import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseFixed } from "../../engine/decimal.ts";
import { TradeFormatError } from "../../engine/connectors/binance/codec.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import { buildTape, mergeTapes, type QuarantinedLine, type Tape } from "./tape.ts";
import { checkSymbol, checkTrade, CSV_NAMES, tradeBounds, type TradeBounds } from "./trade-domain.ts";
import { detect, emptyReason, jsonLine, kindOf, LineError, type Format } from "./fixture-lines.ts";
import { readTradeFile, TradeReadError } from "./trade-reader.ts";

/**
 * Reads recorded trades into a Tape. Formats, detected per file from its first non-blank line:
 * raw `@trade` JSONL, combined-stream JSONL, `<recv_ns> <json>` lines (the hftbacktest
 * recorder), and data.binance.vision trades CSV; any of them gzip-compressed.
 */

/** Bad fixture input; `line` is 1-based, 0 when the file as a whole is unusable. */
export class FixtureError extends Error {
  override readonly name = "FixtureError";
  /** A user error: the CLI prints the message as one line and exits 2. */
  readonly exitCode = 2;
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

export interface LoadOptions {
  /** CSV: the symbol (else taken from a `BTCUSDT-trades-...` file name). JSON: keep only this symbol, counting the rest as skipped. */
  symbol?: string;
  /** Set bad lines aside in stats.quarantined instead of stopping at the first. File-level errors still throw. */
  lenient?: boolean;
  /** Allowed trade times (sim/ reads no clock: the CLI passes tradeBounds(now)); default: 2017 to 2100. */
  bounds?: TradeBounds;
}


/** Receive times from `<recv_ns> <json>` recordings, kept beside the trade so Trade stays the wire shape. */
const receiveTimes = new WeakMap<Trade, bigint>();

/** When the recorder received this trade (ns since epoch), if the fixture said. */
export function receiveTimeNs(t: Trade): bigint | undefined {
  return receiveTimes.get(t);
}

export function loadFixtures(paths: Iterable<string>, opts: LoadOptions = {}): Tape {
  const tapes = [...paths].map((p) => loadFixture(p, opts));
  // One file is its own merge (mergeTapes of one tape rebuilds an equal tape): skip the second pass.
  return tapes.length === 1 ? tapes[0]! : mergeTapes(tapes);
}

/**
 * One fixture file as a Tape. JSON files (raw, combined-stream, `<recv_ns> <json>`; plain or
 * gzip) go through the byte-scanning reader (trade-reader.ts, ~4x faster, no string per line),
 * which applies the same domain checks and gives the same trades, counts and errors as
 * loadLines; CSV files, which the reader declines, go through loadLines.
 */
export function loadFixture(path: string, opts: LoadOptions = {}): Tape {
  let r;
  try {
    r = readTradeFile(path, { symbol: opts.symbol, lenient: opts.lenient, bounds: opts.bounds, onReceiveTime: rememberReceiveTime });
  } catch (e) {
    if (e instanceof TradeReadError) throw new FixtureError(e.file, e.line, e.reason);
    throw e;
  }
  if (r.kind === "json") return buildTape(r.trades, { lines: r.lines, skipped: r.skipped, quarantined: r.quarantined });
  return loadLines(path, opts);
}

function rememberReceiveTime(t: Trade, ns: bigint): void {
  receiveTimes.set(t, ns);
}

/**
 * The line-by-line loader: every format, one string per line through JSON.parse. loadFixture
 * uses it for CSV; trade-reader.test.ts keeps it as the reference the reader must equal.
 */
export function loadLines(path: string, opts: LoadOptions = {}): Tape {
  const { lines, invalidUtf8 } = readText(path);
  const want = opts.symbol ? opts.symbol.toUpperCase() : undefined;
  if (want !== undefined) {
    try {
      checkSymbol(want, "symbol");
    } catch (e) {
      throw new FixtureError(path, 0, (e as Error).message);
    }
  }
  const bounds = opts.bounds ?? tradeBounds();
  const trades: Trade[] = [];
  const skipped: Record<string, number> = {};
  const quarantined: QuarantinedLine[] = [];
  let examined = 0;
  let format: Format | undefined;
  let csv: CsvLayout | undefined;
  let csvSymbol = "";

  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    examined++;
    const lineNo = i + 1;
    try {
      if (line.includes("\0") || (invalidUtf8 && line.includes("\uFFFD"))) throw new LineError("binary data (NUL byte or invalid UTF-8)");
      // Until one line has been read cleanly, each line may decide the format, so a bad first
      // line (quarantined in lenient mode) does not condemn the rest of the file.
      const f = format ?? detect(line, path);
      if (f === "csv") {
        if (csvSymbol === "") csvSymbol = want ?? symbolFromFileName(path);
        const layout = csv ?? csvLayout(line);
        if (csv === undefined && layout.header) skipped["csv-header"] = (skipped["csv-header"] ?? 0) + 1;
        else {
          const t = csvTrade(line, layout, csvSymbol);
          checkTrade(t, bounds, CSV_NAMES);
          trades.push(t);
        }
        csv = layout;
      } else {
        const d = jsonLine(line, f === "recv");
        if (d.kind === "other") {
          skipped[d.what] = (skipped[d.what] ?? 0) + 1;
        } else if (want !== undefined && d.trade.symbol !== want) {
          skipped["trade (other symbol)"] = (skipped["trade (other symbol)"] ?? 0) + 1;
        } else {
          checkTrade(d.trade, bounds);
          if (d.recv !== undefined) receiveTimes.set(d.trade, BigInt(d.recv));
          trades.push(d.trade);
        }
      }
      format = f;
    } catch (e) {
      if (e instanceof FixtureError) throw e;
      if (!(e instanceof LineError || e instanceof TradeFormatError)) throw e;
      if (!opts.lenient) throw new FixtureError(path, lineNo, e.message);
      quarantined.push({ file: path, line: lineNo, reason: e.message, text: line.slice(0, 200) });
    }
  }
  if (trades.length === 0) throw new FixtureError(path, 0, emptyReason(examined, skipped, quarantined.length));
  return buildTape(trades, { lines: examined, skipped, quarantined });
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** The file's lines; invalid UTF-8 shows up as U+FFFD on the lines it spoils. */
function readText(path: string): { lines: string[]; invalidUtf8: boolean } {
  let buf: Buffer;
  try {
    // stat before open: opening a FIFO blocks until a writer comes, and a device may never end.
    const st = statSync(path);
    if (!st.isFile()) throw new FixtureError(path, 0, `not a regular file (${kindOf(st)}): fixtures are regular files, plain or gzip`);
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof FixtureError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new FixtureError(path, 0, `cannot read fixture: ${why}`);
  }
  // Detected by magic bytes, not extension: recordings get renamed.
  if (buf.length >= 2 && buf[0] === GZIP_MAGIC_0 && buf[1] === GZIP_MAGIC_1) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new FixtureError(path, 0, `corrupt gzip data: ${(e as Error).message}`);
    }
  }
  try {
    return { lines: new TextDecoder("utf-8", { fatal: true }).decode(buf).split("\n"), invalidUtf8: false };
  } catch {
    // Decode again with replacement so each spoilt line can be named (and quarantined) on its own.
    // A genuine U+FFFD elsewhere in such a file is refused too: no Binance message contains one.
    return { lines: new TextDecoder("utf-8").decode(buf).split("\n"), invalidUtf8: true };
  }
}

function symbolFromFileName(path: string): string {
  const m = /^([A-Za-z0-9]+)-trades-/.exec(basename(path));
  if (!m) throw new FixtureError(path, 0, "CSV has no symbol: pass a symbol, or name the file like BTCUSDT-trades-2024-08-08.csv");
  const symbol = m[1]!.toUpperCase();
  try {
    checkSymbol(symbol, "symbol");
  } catch (e) {
    throw new FixtureError(path, 0, `${(e as Error).message} (from the file name)`);
  }
  return symbol;
}

interface CsvLayout {
  header: boolean;
  columns: number;
  id: number;
  price: number;
  qty: number;
  time: number;
  isBuyerMaker: number;
}

/**
 * data.binance.vision spot files are `id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch`;
 * USD-M futures files drop isBestMatch and spell names `quote_qty`, `is_buyer_maker`. Both put
 * the fields flinch needs at the same positions, so a file without a header can use them too.
 */
function csvLayout(first: string): CsvLayout {
  const cells = first.split(",");
  if (/^\d+$/.test(cells[0]!.trim())) {
    if (cells.length !== 6 && cells.length !== 7) throw new LineError(`CSV line has ${cells.length} columns, expected 7 (id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch)`);
    return { header: false, columns: cells.length, id: 0, price: 1, qty: 2, time: 4, isBuyerMaker: 5 };
  }
  const names = cells.map((c) => c.trim().toLowerCase().replace(/_/g, ""));
  const col = (n: string) => {
    const i = names.indexOf(n);
    if (i < 0) throw new LineError(`CSV header has no "${n}" column`);
    return i;
  };
  return { header: true, columns: cells.length, id: col("id"), price: col("price"), qty: col("qty"), time: col("time"), isBuyerMaker: col("isbuyermaker") };
}

function csvTrade(line: string, l: CsvLayout, symbol: string): Trade {
  const c = line.split(",");
  if (c.length !== l.columns) throw new LineError(`CSV line has ${c.length} columns, expected ${l.columns}`);
  let time = csvInt(c[l.time]!, "time");
  // data.binance.vision writes spot trade times in microseconds since 2025-01-01; older files
  // and futures use ms. No ms timestamp reaches 1e14 (year 5138), so the size tells them apart.
  if (time > 1e14) time = Math.floor(time / 1000);
  return {
    symbol,
    id: csvInt(c[l.id]!, "id"),
    price: csvFixed(c[l.price]!, "price"),
    quantity: csvFixed(c[l.qty]!, "qty"),
    time,
    eventTime: time, // the CSV has no E; the trade time is the best stand-in
    isBuyerMaker: csvBool(c[l.isBuyerMaker]!, "isBuyerMaker"),
  };
}

function csvInt(s: string, field: string): number {
  const v = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(v)) throw new TradeFormatError(field, `expected a non-negative integer, got ${JSON.stringify(s)}`);
  return v;
}

function csvFixed(s: string, field: string): bigint {
  try {
    return parseFixed(s);
  } catch (e) {
    throw new TradeFormatError(field, (e as Error).message);
  }
}

function csvBool(s: string, field: string): boolean {
  const v = s.toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  throw new TradeFormatError(field, `expected true or false, got ${JSON.stringify(s)}`);
}
