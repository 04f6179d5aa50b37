import { isUtf8 } from "node:buffer";
import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from "node:fs";
import { createGunzip, gunzipSync } from "node:zlib";
import { TradeFormatError } from "../../engine/connectors/binance/codec.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import type { QuarantinedLine } from "./tape.ts";
import { checkSymbol, checkTrade, tradeBounds, type TradeBounds } from "./trade-domain.ts";
import { detect, emptyReason, jsonLine, kindOf, LineError } from "./fixture-lines.ts";
import { fastTrade, recvNs, recvSet, setRecv } from "./trade-scan.ts";

/**
 * A byte-scanning reader for recorded `@trade` JSONL (raw payloads, combined-stream wrappers,
 * `<recv_ns> <json>` lines; plain or gzip). It gives the same trades, counts and errors as
 * sim/binance/fixtures.ts's line-by-line loader, an order of magnitude faster:
 *
 * - Lines are found by scanning the Buffer for '\n'; no string per line.
 * - A line in the canonical shape Binance sends (a flat object of ASCII strings, integers and
 *   booleans, no whitespace, no escapes), raw or wrapped, is read field by field from the bytes:
 *   p and q go straight from digits to exact 1e-8 bigint units, the symbol string is interned.
 * - Any other line (depth, bookTicker, replies, bad input, anything unusual) is decoded and
 *   handed to JSON.parse + decodeMessage exactly as the loader does, so its classification and
 *   error messages are the loader's own. The fast path only ever accepts lines that JSON.parse
 *   would read into the same trade; when unsure it declines.
 *
 * CSV files are not read here: the result says `csv` and the caller uses its own CSV path.
 */

export interface TradeReaderOptions {
  /** Keep only this symbol (upper-cased), counting other trades as skipped. */
  symbol?: string;
  /** Quarantine bad lines instead of failing at the first. */
  lenient?: boolean;
  /** Called for each kept trade of a `<recv_ns> <json>` file with its receive time. */
  onReceiveTime?: (t: Trade, recvNs: bigint) => void;
  /** Allowed trade times, as the loader's LoadOptions.bounds; default: 2017 to 2100. */
  bounds?: TradeBounds;
}

export type TradeReadResult =
  | { kind: "csv" }
  | { kind: "json"; trades: Trade[]; lines: number; skipped: Record<string, number>; quarantined: QuarantinedLine[] };

/** Bad input; `line` is 1-based, 0 for the file as a whole. exitCode 2: the user's input, not a bug. */
export class TradeReadError extends Error {
  override readonly name = "TradeReadError";
  readonly exitCode = 2;
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

/**
 * Reads one file (gzip detected by its magic bytes, as the loader does). A plain file is read in
 * chunks of `chunkBytes` into one reused buffer (no copy of the whole file in memory); gzip files,
 * and files that hold invalid UTF-8 or U+FFFD, are read whole (see readPlain).
 */
export function readTradeFile(path: string, opts: TradeReaderOptions = {}, chunkBytes = 4 << 20): TradeReadResult {
  let fd: number;
  try {
    // stat before open: opening a FIFO blocks until a writer comes, and a device may never end.
    const st = statSync(path);
    if (!st.isFile()) throw new TradeReadError(path, 0, `not a regular file (${kindOf(st)}): fixtures are regular files, plain or gzip`);
    fd = openSync(path, "r");
  } catch (e) {
    throw readError(path, e);
  }
  let buf: Buffer;
  try {
    const plain = readPlain(fd, path, opts, chunkBytes);
    if (plain !== undefined) return plain;
    buf = readFileSync(fd);
  } catch (e) {
    throw readError(path, e);
  } finally {
    closeSync(fd);
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new TradeReadError(path, 0, `corrupt gzip data: ${(e as Error).message}`);
    }
  }
  return readTradeBuffer(buf, path, opts);
}

function readError(path: string, e: unknown): Error {
  if (e instanceof TradeReadError || !(e as NodeJS.ErrnoException).code) return e as Error;
  const err = e as NodeJS.ErrnoException;
  const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory" : err.message;
  return new TradeReadError(path, 0, `cannot read fixture: ${why}`);
}

const REPLACEMENT_CHAR = Buffer.from([0xef, 0xbf, 0xbd]);

/**
 * A plain file's lines chunk by chunk, the incomplete last line of a chunk moved to the front of
 * the buffer for the next read. undefined (and the file read again from the start, whole) when it
 * is gzip, or when a chunk holds invalid UTF-8 or a U+FFFD: the loader refuses U+FFFD on every
 * line of a file with invalid UTF-8 anywhere, which only the whole file can tell. Until such a
 * chunk, every line read here is read as the whole-file path would (no line so far held U+FFFD),
 * so an error thrown from those lines is the same error.
 */
function readPlain(fd: number, path: string, opts: TradeReaderOptions, chunkBytes: number): TradeReadResult | undefined {
  let buf = Buffer.allocUnsafe(Math.max(2, chunkBytes));
  let have = 0; // bytes in buf
  let at = 0; // file position of the next read
  let s: TradeLineScanner | undefined;
  for (;;) {
    let eof = false;
    while (have < buf.length) {
      const n = readSync(fd, buf, have, buf.length - have, at);
      if (n === 0) {
        eof = true;
        break;
      }
      have += n;
      at += n;
    }
    if (s === undefined) {
      if (have >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return undefined;
      s = new TradeLineScanner(path, opts, false);
    }
    // Up to the last '\n' (at the end of the file: everything). UTF-8 never puts 0x0A inside a character.
    const end = eof ? have : buf.lastIndexOf(10, have - 1) + 1;
    if (end === 0 && !eof) {
      // One line longer than the buffer: grow it and read on.
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, have);
      buf = bigger;
      continue;
    }
    const lines = buf.subarray(0, end);
    if (!isUtf8(lines) || lines.indexOf(REPLACEMENT_CHAR) >= 0) return undefined;
    if (!s.push(lines)) return { kind: "csv" };
    // At the end, push() kept the text after the last '\n' back, and end() reads it as the last line.
    if (eof) return s.end();
    buf.copyWithin(0, end, have);
    have -= end;
  }
}

/**
 * Reads a file chunk by chunk (gzip decompressed as it streams), holding one chunk and the
 * trades in memory instead of the whole text. See TradeLineScanner for the one way this can
 * differ from readTradeFile on files with invalid UTF-8.
 */
export async function streamTradeFile(path: string, opts: TradeReaderOptions = {}): Promise<TradeReadResult> {
  let gz = false;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new TradeReadError(path, 0, `not a regular file (${kindOf(st)}): fixtures are regular files, plain or gzip`);
    const fd = openSync(path, "r");
    try {
      const head = Buffer.alloc(2);
      gz = readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof TradeReadError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new TradeReadError(path, 0, `cannot read fixture: ${why}`);
  }
  const s = new TradeLineScanner(path, opts);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const input: AsyncIterable<Buffer> = gz ? file.pipe(createGunzip()) : file;
  try {
    for await (const chunk of input) if (!s.push(chunk)) return { kind: "csv" };
  } catch (e) {
    if (e instanceof TradeReadError) throw e;
    throw new TradeReadError(path, 0, gz ? `corrupt gzip data: ${(e as Error).message}` : `cannot read fixture: ${(e as Error).message}`);
  } finally {
    file.destroy();
  }
  return s.end();
}

/** Reads a whole decompressed file held in memory; `path` names it in errors and decides CSV by extension. */
export function readTradeBuffer(buf: Buffer, path: string, opts: TradeReaderOptions = {}): TradeReadResult {
  const s = new TradeLineScanner(path, opts, !isUtf8(buf));
  if (!s.push(buf)) return { kind: "csv" };
  return s.end();
}

/**
 * The incremental core: feed it chunks of the decompressed file in order, then end().
 * `invalidUtf8` says whether the file holds invalid UTF-8 anywhere (the loader refuses U+FFFD
 * on every line of such a file); when it is not known up front (a stream), it becomes true at
 * the first invalid line seen, which differs from the loader only for a genuine U+FFFD that
 * comes before the file's first invalid byte.
 */
export class TradeLineScanner {
  private readonly trades: Trade[] = [];
  private readonly skipped: Record<string, number> = {};
  private readonly quarantined: QuarantinedLine[] = [];
  private readonly want: string | undefined;
  private readonly bounds: TradeBounds;
  private examined = 0;
  private lineNo = 0;
  private format: "json" | "recv" | undefined;
  private carry: Buffer | undefined;
  private first = true;
  private csv = false;
  private readonly decoder = new TextDecoder("utf-8");

  constructor(private readonly path: string, private readonly opts: TradeReaderOptions, private invalidUtf8?: boolean) {
    this.want = opts.symbol ? opts.symbol.toUpperCase() : undefined;
    if (this.want !== undefined) {
      try {
        checkSymbol(this.want, "symbol");
      } catch (e) {
        throw new TradeReadError(path, 0, (e as Error).message);
      }
    }
    this.bounds = opts.bounds ?? tradeBounds();
  }

  /** Scans the complete lines of `chunk`; false once the file turned out to be CSV. */
  push(chunk: Buffer): boolean {
    if (this.csv) return false;
    let b = chunk;
    if (this.carry) {
      b = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let start = 0;
    // The UTF-8 decoder drops a leading byte-order mark; so does this.
    if (this.first && b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) start = 3;
    if (b.length > 0) this.first = false;
    const n = b.length;
    while (start < n) {
      const nl = b.indexOf(10, start);
      if (nl < 0) break;
      if (!this.line(b, start, nl)) return false;
      start = nl + 1;
    }
    if (start < n) this.carry = b.subarray(start);
    return true;
  }

  end(): TradeReadResult {
    if (this.csv) return { kind: "csv" };
    // The text after the last '\n' is a line too (empty when the file ends with one).
    const rest = this.carry ?? Buffer.alloc(0);
    this.carry = undefined;
    if (!this.line(rest, 0, rest.length)) return { kind: "csv" };
    if (this.trades.length === 0) throw new TradeReadError(this.path, 0, emptyReason(this.examined, this.skipped, this.quarantined.length));
    return { kind: "json", trades: this.trades, lines: this.examined, skipped: this.skipped, quarantined: this.quarantined };
  }

  /** One line, bytes [s, e) without its '\n'. False when the file is CSV. */
  private line(b: Buffer, s: number, e: number): boolean {
    this.lineNo++;
    if (e > s && b[e - 1] === 13) e--; // one '\r', as the loader strips
    let blank = true;
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      if (c !== 32 && (c < 9 || c > 13)) {
        blank = false;
        break;
      }
    }
    if (blank) return true;
    if (this.format !== undefined) {
      const t = fastTrade(b, s, e, this.format === "recv");
      if (t !== undefined) {
        this.examined++;
        if (this.want !== undefined && t.symbol !== this.want) {
          this.skipped["trade (other symbol)"] = (this.skipped["trade (other symbol)"] ?? 0) + 1;
          return true;
        }
        try {
          checkTrade(t, this.bounds);
        } catch (err) {
          if (!(err instanceof TradeFormatError)) throw err;
          this.bad(this.lineNo, err.message, this.decoder.decode(b.subarray(s, e)));
          return true;
        }
        this.keep(t);
        return true;
      }
    }
    const bytes = b.subarray(s, e);
    if (this.invalidUtf8 === undefined && !isUtf8(bytes)) this.invalidUtf8 = true; // a stream: known from here on
    return this.slowLine(this.decoder.decode(bytes));
  }

  /** A kept trade (symbol filter and domain checks passed). */
  private keep(t: Trade): void {
    if (recvSet && this.opts.onReceiveTime) this.opts.onReceiveTime(t, recvNs());
    this.trades.push(t);
  }

  /** The loader's per-line logic, verbatim in effect, for every line the fast path declines. */
  private slowLine(line: string): boolean {
    if (line.trim() === "") return true;
    this.examined++;
    const lineNo = this.lineNo;
    try {
      if (line.includes("\0") || (this.invalidUtf8 === true && line.includes("\uFFFD"))) throw new LineError("binary data (NUL byte or invalid UTF-8)");
      const f = this.format ?? detect(line, this.path);
      if (f === "csv") {
        this.csv = true;
        return false;
      }
      const d = jsonLine(line, f === "recv");
      if (d.kind === "other") {
        this.skipped[d.what] = (this.skipped[d.what] ?? 0) + 1;
      } else if (this.want !== undefined && d.trade.symbol !== this.want) {
        this.skipped["trade (other symbol)"] = (this.skipped["trade (other symbol)"] ?? 0) + 1;
      } else {
        checkTrade(d.trade, this.bounds);
        setRecv(d.recv);
        this.keep(d.trade);
      }
      this.format = f;
    } catch (e) {
      if (!(e instanceof LineError || e instanceof TradeFormatError)) throw e;
      this.bad(lineNo, e.message, line);
    }
    return true;
  }

  /** A bad line: the error in strict mode, set aside in lenient mode. */
  private bad(lineNo: number, reason: string, line: string): void {
    if (!this.opts.lenient) throw new TradeReadError(this.path, lineNo, reason);
    this.quarantined.push({ file: this.path, line: lineNo, reason, text: line.slice(0, 200) });
  }
}
