import { isUtf8 } from "node:buffer";
import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync, type Stats } from "node:fs";
import { createGunzip, gunzipSync } from "node:zlib";
import { decodeMessage, TradeFormatError, type DecodedMessage } from "../../engine/connectors/binance/codec.ts";
import type { Trade } from "../../engine/connectors/binance/trade.ts";
import type { QuarantinedLine } from "./tape.ts";
import { checkSymbol, checkTrade, tradeBounds, type TradeBounds } from "./trade-domain.ts";

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

/** Reads one file (gzip detected by its magic bytes, as the loader does). */
export function readTradeFile(path: string, opts: TradeReaderOptions = {}): TradeReadResult {
  let buf: Buffer;
  try {
    // stat before open: opening a FIFO blocks until a writer comes, and a device may never end.
    const st = statSync(path);
    if (!st.isFile()) throw new TradeReadError(path, 0, `not a regular file (${kindOf(st)}): fixtures are regular files, plain or gzip`);
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof TradeReadError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new TradeReadError(path, 0, `cannot read fixture: ${why}`);
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

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSocket()) return "a socket";
  return "not a file";
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
        recvSet = false;
        if (d.recv !== undefined) setRecvFromString(d.recv);
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

class LineError extends Error {}

/** The loader's wording for "no trades here" (empty, only other messages, all quarantined). */
function emptyReason(lines: number, skipped: Record<string, number>, quarantined: number): string {
  if (lines === 0) return "no trades: the file is empty";
  const parts = Object.entries(skipped).map(([k, n]) => `${n} ${k}`);
  if (quarantined) parts.push(`${quarantined} quarantined`);
  return `no trades among ${lines} lines (${parts.join(", ")})`;
}

function detect(line: string, path: string): "json" | "recv" | "csv" {
  if (line.startsWith("{") || line.startsWith("[")) return "json";
  if (/^\d+ [{[]/.test(line)) return "recv";
  if (/\.csv(\.gz)?$/i.test(path)) return "csv";
  if (/\.(jsonl|ndjson|json|txt)(\.gz)?$/i.test(path)) return "json";
  if (/^(\d+|id),/i.test(line)) return "csv";
  return "json";
}

function jsonLine(line: string, recvPrefixed: boolean): DecodedMessage & { recv?: string } {
  let json = line;
  let recv: string | undefined;
  if (recvPrefixed) {
    const sp = line.indexOf(" ");
    recv = sp > 0 ? line.slice(0, sp) : "";
    if (!/^\d{1,20}$/.test(recv)) throw new LineError("expected `<receive time ns> <json>`");
    json = line.slice(sp + 1);
  }
  let msg: unknown;
  try {
    msg = JSON.parse(json);
  } catch (e) {
    throw new LineError(`malformed JSON: ${(e as Error).message}`);
  }
  const d = decodeMessage(msg);
  return recv === undefined ? d : { ...d, recv };
}

// ---- the fast path: module-level scratch, so a line allocates only its Trade and two bigints ----

/** Receive time of the last line read, as high and low decimal digits (ns need up to 20 digits). */
let recvSet = false;
let recvHi = 0;
let recvLo = 0;
let recvLoDigits = 0;
let recvStr: string | undefined;

function recvNs(): bigint {
  if (recvStr !== undefined) return BigInt(recvStr);
  return BigInt(recvHi) * 10n ** BigInt(recvLoDigits) + BigInt(recvLo);
}

function setRecvFromString(s: string): void {
  recvSet = true;
  recvStr = s;
}

// Field kinds: 0 absent, 1 string [start, end), 2 integer (value), 3 boolean (value).
let kE = 0, vE = 0;
let kS = 0, sS = 0, eS = 0;
let kT = 0, vT = 0; // "t": trade id
let kTT = 0, vTT = 0; // "T": trade time
let kP = 0, sP = 0, eP = 0;
let kQ = 0, sQ = 0, eQ = 0;
let kM = 0, vM = false;
let kEv = 0, isTrade = false; // "e"
let pos = 0;
let sv = 0, ev = 0, iv = 0, bv = false; // the last value scanned

const Q = 34, COLON = 58, COMMA = 44, LBRACE = 123, RBRACE = 125;

/** A trade read from bytes [s, e), or undefined when the line is not in the plain shape (the slow path decides). */
function fastTrade(b: Buffer, s: number, e: number, recv: boolean): Trade | undefined {
  pos = s;
  recvSet = false;
  recvStr = undefined;
  if (recv) {
    let hi = 0, lo = 0, digits = 0;
    while (pos < e) {
      const c = b[pos]!;
      if (c < 48 || c > 57) break;
      // 20 digits do not fit a double exactly: the first 10 go to hi, the rest to lo.
      if (digits < 10) hi = hi * 10 + (c - 48);
      else lo = lo * 10 + (c - 48);
      digits++;
      pos++;
    }
    if (digits === 0 || digits > 20 || pos >= e || b[pos] !== 32) return undefined;
    pos++;
    recvSet = true;
    if (digits <= 10) {
      recvHi = 0;
      recvLo = hi;
      recvLoDigits = digits;
    } else {
      recvHi = hi;
      recvLo = lo;
      recvLoDigits = digits - 10;
    }
  }
  if (pos >= e || b[pos] !== LBRACE) return undefined;
  // `{"stream":"...","data":{...}}`: the combined-stream wrapper around one payload.
  if (e - pos > 11 && b[pos + 1] === Q && b[pos + 2] === 115 /* s */ && b[pos + 3] === 116 /* t */ && b[pos + 4] === 114 /* r */ && b[pos + 8] === 109 /* m */ && b[pos + 9] === Q) {
    if (b[pos + 5] !== 101 || b[pos + 6] !== 97 || b[pos + 7] !== 109 || b[pos + 10] !== COLON) return undefined;
    pos += 11;
    if (!str(b, e)) return undefined;
    // `,"data":`
    if (e - pos < 9 || b[pos] !== COMMA || b[pos + 1] !== Q || b[pos + 2] !== 100 || b[pos + 3] !== 97 || b[pos + 4] !== 116 || b[pos + 5] !== 97 || b[pos + 6] !== Q || b[pos + 7] !== COLON) return undefined;
    pos += 8;
    if (!flat(b, e)) return undefined;
    if (pos !== e - 1 || b[pos] !== RBRACE) return undefined;
  } else {
    if (!flat(b, e)) return undefined;
    if (pos !== e) return undefined;
  }
  // What tradeFromPayload requires; anything else is the slow path's to report.
  if (kEv !== 1 || !isTrade || kS !== 1 || eS === sS || kT !== 2 || kTT !== 2 || kM !== 3 || kP !== 1 || kQ !== 1) return undefined;
  if (kE !== 0 && kE !== 2) return undefined;
  const price = fixed(b, sP, eP);
  if (price === undefined) return undefined;
  const quantity = fixed(b, sQ, eQ);
  if (quantity === undefined) return undefined;
  return { symbol: symbolOf(b, sS, eS), id: vT, price, quantity, time: vTT, eventTime: kE === 0 ? vTT : vE, isBuyerMaker: vM };
}

/** A string value at pos: plain printable ASCII, no escapes. Sets sv/ev (contents) and moves past the quote. */
function str(b: Buffer, e: number): boolean {
  if (pos >= e || b[pos] !== Q) return false;
  sv = ++pos;
  while (pos < e) {
    const c = b[pos]!;
    if (c === Q) {
      ev = pos++;
      return true;
    }
    if (c === 92 || c < 32 || c > 126) return false; // escape, control or non-ASCII: slow path
    pos++;
  }
  return false;
}

/** A flat object at pos of string, integer and boolean members; records the fields a trade uses. */
function flat(b: Buffer, e: number): boolean {
  kE = kS = kT = kTT = kP = kQ = kM = kEv = 0;
  isTrade = false;
  if (b[pos] !== LBRACE) return false;
  pos++;
  if (pos < e && b[pos] === RBRACE) {
    pos++;
    return true;
  }
  while (pos < e) {
    if (!str(b, e)) return false;
    const ks = sv, klen = ev - sv;
    if (pos >= e || b[pos] !== COLON) return false;
    pos++;
    const kind = value(b, e);
    if (kind === 0) return false;
    if (klen === 1) {
      switch (b[ks]) {
        case 101 /* e */:
          kEv = kind;
          isTrade = kind === 1 && ev - sv === 5 && b[sv] === 116 && b[sv + 1] === 114 && b[sv + 2] === 97 && b[sv + 3] === 100 && b[sv + 4] === 101;
          break;
        case 69 /* E */: kE = kind; vE = iv; break;
        case 115 /* s */: kS = kind; sS = sv; eS = ev; break;
        case 116 /* t */: kT = kind; vT = iv; break;
        case 84 /* T */: kTT = kind; vTT = iv; break;
        case 112 /* p */: kP = kind; sP = sv; eP = ev; break;
        case 113 /* q */: kQ = kind; sQ = sv; eQ = ev; break;
        case 109 /* m */: kM = kind; vM = bv; break;
      }
    } else if ((klen === 6 && b[ks] === 115 && b[ks + 1] === 116) || (klen === 4 && b[ks] === 100 && b[ks + 1] === 97)) {
      return false; // "stream"/"data" inside: a wrapper shape the fast path does not take
    }
    if (pos >= e) return false;
    const c = b[pos++];
    if (c === RBRACE) return true;
    if (c !== COMMA) return false;
  }
  return false;
}

/** A scalar value at pos: 1 string (sv, ev), 2 safe integer (iv), 3 boolean (bv); 0 anything else. */
function value(b: Buffer, e: number): number {
  const c = b[pos];
  if (c === Q) return str(b, e) ? 1 : 0;
  if (c !== undefined && c >= 48 && c <= 57) {
    const s = pos;
    let v = 0;
    while (pos < e) {
      const d = b[pos]!;
      if (d < 48 || d > 57) break;
      v = v * 10 + (d - 48);
      pos++;
    }
    const n = pos - s;
    if (n > 15 || (n > 1 && c === 48)) return 0; // beyond 2^53 or a leading zero: slow path
    if (pos < e && (b[pos] === 46 || b[pos] === 101 || b[pos] === 69)) return 0; // a fraction or exponent
    iv = v;
    return 2;
  }
  if (c === 116 && e - pos >= 4 && b[pos + 1] === 114 && b[pos + 2] === 117 && b[pos + 3] === 101) {
    pos += 4;
    bv = true;
    return 3;
  }
  if (c === 102 && e - pos >= 5 && b[pos + 1] === 97 && b[pos + 2] === 108 && b[pos + 3] === 115 && b[pos + 4] === 101) {
    pos += 5;
    bv = false;
    return 3;
  }
  return 0;
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/**
 * parseFixed on bytes: digits with at most one '.', 1e-8 units. Only the shapes parseFixed
 * accepts with its exact double fast path (≤ 7 integer digits) are taken; the rest decline.
 */
function fixed(b: Buffer, s: number, e: number): bigint | undefined {
  let int = 0, frac = 0, intDigits = 0, fracDigits = 0, dot = false;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === 46) {
      if (dot) return undefined;
      dot = true;
    } else if (c >= 48 && c <= 57) {
      if (!dot) {
        int = int * 10 + (c - 48);
        intDigits++;
      } else if (fracDigits < 8) {
        frac = frac * 10 + (c - 48);
        fracDigits++;
      } else if (c !== 48) return undefined; // a 9th non-zero fractional digit would be rounded
    } else return undefined;
  }
  if (intDigits === 0 || intDigits > 7 || (dot && fracDigits === 0)) return undefined;
  return BigInt(int * 1e8 + frac * POW10[8 - fracDigits]!);
}

// Interned symbols: a tape holds a handful, so one small list compared byte by byte.
const symBytes: Buffer[] = [];
const symStrings: string[] = [];

function symbolOf(b: Buffer, s: number, e: number): string {
  const len = e - s;
  outer: for (let k = 0; k < symBytes.length; k++) {
    const c = symBytes[k]!;
    if (c.length !== len) continue;
    for (let i = 0; i < len; i++) if (c[i] !== b[s + i]) continue outer;
    return symStrings[k]!;
  }
  const name = b.toString("latin1", s, e).toUpperCase();
  if (symBytes.length < 64) {
    symBytes.push(Buffer.from(b.subarray(s, e)));
    symStrings.push(name);
  }
  return name;
}
