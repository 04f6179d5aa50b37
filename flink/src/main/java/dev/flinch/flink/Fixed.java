package dev.flinch.flink;

/** Exact 1e-8 fixed point, as flinch's engine/decimal.ts: parse and format without floats. */
public final class Fixed {
    private Fixed() {}

    public static final long SCALE = 100_000_000L;

    /** "0.00123000" -> 123000. Throws IllegalArgumentException naming the text when it is not a plain decimal with at most 8 fractional digits. */
    public static long parse(String s) {
        if (s == null || s.isEmpty()) throw new IllegalArgumentException("empty decimal");
        int i = 0;
        boolean neg = false;
        if (s.charAt(0) == '-') {
            neg = true;
            i = 1;
        }
        long whole = 0;
        long frac = 0;
        int fracDigits = 0;
        boolean dot = false;
        boolean any = false;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.') {
                if (dot) throw new IllegalArgumentException("not a decimal: " + s);
                dot = true;
                continue;
            }
            if (c < '0' || c > '9') throw new IllegalArgumentException("not a decimal: " + s);
            any = true;
            if (dot) {
                if (++fracDigits > 8) {
                    if (c != '0') throw new IllegalArgumentException("more than 8 fractional digits: " + s);
                    fracDigits = 8;
                    continue;
                }
                frac = frac * 10 + (c - '0');
            } else {
                whole = Math.addExact(Math.multiplyExact(whole, 10), c - '0');
            }
        }
        if (!any) throw new IllegalArgumentException("not a decimal: " + s);
        for (int k = fracDigits; k < 8; k++) frac *= 10;
        long v = Math.addExact(Math.multiplyExact(whole, SCALE), frac);
        return neg ? -v : v;
    }

    /** 123000 -> "0.00123000": exactly 8 fractional digits, as flinch prints quantities. */
    public static String format(long v) {
        boolean neg = v < 0;
        long a = Math.abs(v);
        String frac = Long.toString(a % SCALE);
        StringBuilder b = new StringBuilder();
        if (neg) b.append('-');
        b.append(a / SCALE).append('.');
        for (int k = frac.length(); k < 8; k++) b.append('0');
        return b.append(frac).toString();
    }
}
