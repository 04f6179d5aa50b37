/**
 * Exact fixed-point quantities: 1 unit = 1e-8, held in a bigint.
 *
 * Binance sends prices and quantities as decimal strings with at most 8 fractional digits.
 * A float sum depends on the order of addition and replay after a crash changes that order,
 * so a float sum would turn correct runs into false violations. A bigint never overflows:
 * SHIB-sized quantities summed over a minute pass 2^53 units.
 */
export type Fixed = bigint;

export const SCALE_DIGITS = 8;
export const SCALE = 100_000_000n;
export const ZERO: Fixed = 0n;

/** Why a decimal string was refused; the loader turns it into a message naming file and line. */
export class DecimalFormatError extends Error {
  override readonly name = "DecimalFormatError";
  constructor(readonly input: string, readonly reason: string) {
    super(`invalid decimal ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + "…" : input)}: ${reason}`);
  }
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DOT = 46;

/**
 * Parses a non-negative decimal string ("12.345", "0.1", "7") into 1e-8 units.
 * Refuses signs, exponents, spaces, empty parts and more than 8 fractional digits,
 * because each of those means the input is not what an exchange sends.
 */
export function parseFixed(s: string): Fixed {
  const n = s.length;
  if (n === 0) throw new DecimalFormatError(s, "empty");
  if (s.charCodeAt(0) === 45) throw new DecimalFormatError(s, "negative quantity");
  let dot = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === DOT) {
      if (dot >= 0) throw new DecimalFormatError(s, "more than one decimal point");
      dot = i;
    } else if (c < DIGIT_0 || c > DIGIT_9) {
      throw new DecimalFormatError(s, "not a number");
    }
  }
  if (dot === 0 || dot === n - 1) throw new DecimalFormatError(s, "missing digits around the decimal point");
  const intPart = dot < 0 ? s : s.slice(0, dot);
  let frac = dot < 0 ? "" : s.slice(dot + 1);
  if (frac.length > SCALE_DIGITS) {
    // Trailing zeros beyond 8 digits carry no value; anything else would be silently rounded.
    const extra = frac.slice(SCALE_DIGITS);
    if (!/^0*$/.test(extra)) throw new DecimalFormatError(s, `more than ${SCALE_DIGITS} fractional digits`);
    frac = frac.slice(0, SCALE_DIGITS);
  }
  frac = frac.padEnd(SCALE_DIGITS, "0");
  // Fast path: fits in a double exactly (< 2^53 units).
  if (intPart.length <= 7) return BigInt(Number(intPart) * 1e8 + Number(frac));
  return BigInt(intPart) * SCALE + BigInt(frac);
}

/** Formats 1e-8 units as a decimal string with exactly 8 fractional digits ("12.34500000"). */
export function formatFixed(v: Fixed): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const int = a / SCALE;
  const frac = (a % SCALE).toString().padStart(SCALE_DIGITS, "0");
  return `${neg ? "-" : ""}${int}.${frac}`;
}
