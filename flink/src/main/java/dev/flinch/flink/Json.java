package dev.flinch.flink;

/**
 * Just enough JSON for Binance's flat trade payloads: the raw text of one top-level field.
 * The payloads are flat objects of strings, numbers and booleans (a combined-stream frame nests
 * the payload under "data", which {@link #object} extracts first), so no general parser is needed.
 */
public final class Json {
    private Json() {}

    /** The raw value of {@code "name":} in {@code json} (strings without quotes), or null when absent. */
    public static String field(String json, String name) {
        String key = "\"" + name + "\"";
        int from = 0;
        while (true) {
            int k = json.indexOf(key, from);
            if (k < 0) return null;
            int i = k + key.length();
            while (i < json.length() && Character.isWhitespace(json.charAt(i))) i++;
            if (i >= json.length() || json.charAt(i) != ':') {
                from = k + 1;
                continue;
            }
            i++;
            while (i < json.length() && Character.isWhitespace(json.charAt(i))) i++;
            if (i >= json.length()) return null;
            if (json.charAt(i) == '"') {
                int end = json.indexOf('"', i + 1);
                return end < 0 ? null : json.substring(i + 1, end);
            }
            int end = i;
            while (end < json.length() && ",}] \n\r\t".indexOf(json.charAt(end)) < 0) end++;
            return json.substring(i, end);
        }
    }

    /** The text of the object under {@code "name":{...}} (balanced braces; payloads hold no braces in strings). */
    public static String object(String json, String name) {
        int k = json.indexOf("\"" + name + "\"");
        if (k < 0) return null;
        int i = json.indexOf('{', k);
        if (i < 0) return null;
        int depth = 0;
        for (int j = i; j < json.length(); j++) {
            char c = json.charAt(j);
            if (c == '{') depth++;
            else if (c == '}' && --depth == 0) return json.substring(i, j + 1);
        }
        return null;
    }

    /** A Binance @trade payload (or REST historicalTrades element when symbol is given) as a Trade. */
    public static Trade trade(String json, String symbolIfAbsent) {
        String s = field(json, "s");
        String id = field(json, "t");
        if (id == null) id = field(json, "id");
        String q = field(json, "q");
        if (q == null) q = field(json, "qty");
        String t = field(json, "T");
        if (t == null) t = field(json, "time");
        if (id == null || q == null || t == null) throw new IllegalArgumentException("not a trade: " + json);
        return new Trade(s != null ? s : symbolIfAbsent, Long.parseLong(id), Long.parseLong(t), Fixed.parse(q));
    }
}
