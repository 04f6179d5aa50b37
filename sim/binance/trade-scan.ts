import type { Trade } from "../../engine/connectors/binance/trade.ts";

/**
 * The trade reader's fast path (trade-reader.ts): reads one `@trade` line in Binance's canonical
 * shape from the bytes of a Buffer, or declines (undefined) so the caller's JSON.parse path
 * decides. Module-level scratch, so a line allocates only its Trade and two bigints.
 */

/** Receive time of the last line read, as high and low decimal digits (ns need up to 20 digits). */
export let recvSet = false;
let recvHi = 0;
let recvLo = 0;
let recvLoDigits = 0;
let recvStr: string | undefined;

export function recvNs(): bigint {
  if (recvStr !== undefined) return BigInt(recvStr);
  return BigInt(recvHi) * 10n ** BigInt(recvLoDigits) + BigInt(recvLo);
}

/** The receive time of a line the slow path read (undefined: the line had none). */
export function setRecv(s: string | undefined): void {
  recvSet = s !== undefined;
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
export function fastTrade(b: Buffer, s: number, e: number, recv: boolean): Trade | undefined {
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
    // The wrapper's payload in Binance's own key order: read in one pass (see ordered).
    const at = pos;
    const t = ordered(b, e);
    if (t !== undefined && pos === e - 1 && b[pos] === RBRACE) return t;
    pos = at;
    if (!flat(b, e)) return undefined;
    if (pos !== e - 1 || b[pos] !== RBRACE) return undefined;
  } else {
    const at = pos;
    const t = ordered(b, e);
    if (t !== undefined && pos === e) return t;
    pos = at;
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

/**
 * The payload exactly as Binance's spot stream writes it, keys in its order:
 * `{"e":"trade","E":<int>,"s":"<symbol>","t":<int>,"p":"<decimal>","q":"<decimal>","T":<int>,"m":<bool>[,"M":<bool>]}`.
 * Every byte is matched by this grammar (literals, digits, symbol characters), so no escape,
 * control character or repeated key can hide in it, and the values are the ones flat() +
 * the checks in fastTrade would take. Anything else returns undefined (pos then undefined too)
 * and the general scan decides. About half the work of the general scan per line.
 */
function ordered(b: Buffer, e: number): Trade | undefined {
  if (!lit(b, e, L_HEAD)) return undefined;
  const E = int(b, e);
  if (E < 0) return undefined;
  if (!lit(b, e, L_S)) return undefined;
  const ss = pos;
  while (pos < e && SYMBOL_BYTE[b[pos]!] === 1) pos++;
  const se = pos;
  if (se === ss || !lit(b, e, L_T)) return undefined;
  const id = int(b, e);
  if (id < 0) return undefined;
  if (!lit(b, e, L_P)) return undefined;
  const price = decimal(b, e);
  if (price === undefined || !lit(b, e, L_Q)) return undefined;
  const quantity = decimal(b, e);
  if (quantity === undefined || !lit(b, e, L_TT)) return undefined;
  const time = int(b, e);
  if (time < 0) return undefined;
  if (!lit(b, e, L_M) || !bool(b, e)) return undefined;
  const m = bv;
  if (pos < e && b[pos] === COMMA) {
    if (!lit(b, e, L_MM) || !bool(b, e)) return undefined;
  }
  if (pos >= e || b[pos] !== RBRACE) return undefined;
  pos++;
  return { symbol: symbolOf(b, ss, se), id, price, quantity, time, eventTime: E, isBuyerMaker: m };
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const L_HEAD = ascii(`{"e":"trade","E":`);
const L_S = ascii(`,"s":"`);
const L_T = ascii(`","t":`);
const L_P = ascii(`,"p":"`);
const L_Q = ascii(`","q":"`);
const L_TT = ascii(`","T":`);
const L_M = ascii(`,"m":`);
const L_MM = ascii(`,"M":`);
/** Bytes a symbol may hold in the ordered path: letters, digits, - _ . (checkSymbol's set, either case). */
const SYMBOL_BYTE = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") SYMBOL_BYTE[c.charCodeAt(0)] = 1;

/** The literal bytes `l` at pos (moving past them). */
function lit(b: Buffer, e: number, l: Uint8Array): boolean {
  const n = l.length;
  if (e - pos < n) return false;
  for (let i = 0; i < n; i++) if (b[pos + i] !== l[i]) return false;
  pos += n;
  return true;
}

/**
 * A non-negative integer at pos, taken by the rules value() applies (at most 15 digits, no
 * leading zero, no fraction or exponent), or -1. Returned rather than stored in module scratch:
 * a trade time does not fit a small integer, and a module-level store would box it per line.
 */
function int(b: Buffer, e: number): number {
  const s = pos;
  let v = 0;
  while (pos < e) {
    const d = b[pos]!;
    if (d < 48 || d > 57) break;
    v = v * 10 + (d - 48);
    pos++;
  }
  const n = pos - s;
  if (n === 0 || n > 15 || (n > 1 && b[s] === 48)) return -1;
  if (pos < e && (b[pos] === 46 || b[pos] === 101 || b[pos] === 69)) return -1;
  return v;
}

/** true or false at pos (into bv). */
function bool(b: Buffer, e: number): boolean {
  const c = b[pos];
  return (c === 116 || c === 102) && value(b, e) === 3;
}

/** A decimal string's contents at pos up to its closing quote (left at pos), as fixed() reads them. */
function decimal(b: Buffer, e: number): bigint | undefined {
  const s = pos;
  while (pos < e) {
    const c = b[pos]!;
    if ((c < 48 || c > 57) && c !== 46) break;
    pos++;
  }
  if (pos >= e || b[pos] !== Q) return undefined;
  return fixed(b, s, pos);
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
    const v = int(b, e); // -1: beyond 2^53, a leading zero, a fraction or an exponent: slow path
    if (v < 0) return 0;
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
  return bigintOf(int * 1e8 + frac * POW10[8 - fracDigits]!);
}

/**
 * The bigint of an exact integer below 2^53, from a direct-mapped cache: a tape repeats its
 * prices and lot sizes (the same price as the trade before: 63-68 % of trades in the BTCUSDT and
 * ETHUSDT recordings; a quantity seen before: 75-99 %), and a bigint kept in a Trade is a heap
 * object the collector copies when it survives: sharing one per value took the collector's share
 * of reading the 2.1 M-line replay tape from 21 % to 14 %. Bigints are immutable, so sharing them
 * cannot be seen.
 */
const CACHE_BITS = 14;
const cacheKeys = new Float64Array(1 << CACHE_BITS).fill(-1);
const cacheValues: bigint[] = new Array<bigint>(1 << CACHE_BITS).fill(0n);

function bigintOf(v: number): bigint {
  const h = Math.imul((v | 0) ^ ((v / 4294967296) | 0), 0x9e3779b1) >>> (32 - CACHE_BITS);
  if (cacheKeys[h] === v) return cacheValues[h]!;
  const big = BigInt(v);
  cacheKeys[h] = v;
  cacheValues[h] = big;
  return big;
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
