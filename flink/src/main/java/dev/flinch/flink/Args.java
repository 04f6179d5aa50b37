package dev.flinch.flink;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} arguments of the seed job:
 * --tape FILE | --ws URL --rest URL --symbols SYM:fromId:untilId,...   the input
 * --sink file|print  --out DIR  --late (late records to stdout as "late> {...}")
 * --backend hashmap|filesystem|rocksdb  --checkpoints DIR  --mode exactly-once|at-least-once
 * --interval MS --min-pause MS --timeout MS --restart-attempts N --restart-delay MS
 * --window MS --watermarks bounded|none|per-event --out-of-orderness MS --parallelism N (source)
 * --faults PLAN --fired-log FILE --restore DIR/chk-n --throttle-us N (each record takes N µs)
 * --buffer-timeout MS (network buffer flush; 0 = every record) --barrier-delay MS (subtasks > 0 hold their barrier)
 */
public final class Args {
    private static final Set<String> FLAGS = Set.of("late");
    private static final Set<String> NAMES = Set.of("tape", "ws", "rest", "symbols", "sink", "out", "backend", "checkpoints", "mode", "interval", "min-pause", "timeout",
        "restart-attempts", "restart-delay", "window", "watermarks", "out-of-orderness", "parallelism", "faults", "fired-log", "restore", "throttle-us", "buffer-timeout", "barrier-delay");
    private final Map<String, String> m = new HashMap<>();

    public static Args parse(String[] argv) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (!k.startsWith("--")) throw new IllegalArgumentException("unexpected argument " + k);
            String name = k.substring(2);
            if (FLAGS.contains(name)) {
                a.m.put(name, "true");
                continue;
            }
            if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown option " + k);
            if (i + 1 >= argv.length) throw new IllegalArgumentException(k + " needs a value");
            a.m.put(name, argv[++i]);
        }
        if ("file".equals(a.get("sink", "file")) && !a.has("out")) throw new IllegalArgumentException("--sink file needs --out DIR");
        return a;
    }

    public boolean has(String k) {
        return m.containsKey(k);
    }

    public String get(String k) {
        return m.get(k);
    }

    public String get(String k, String dflt) {
        return m.getOrDefault(k, dflt);
    }

    public long getLong(String k, long dflt) {
        String v = m.get(k);
        try {
            return v == null ? dflt : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + k + " must be an integer, got " + v);
        }
    }

    public int getInt(String k, int dflt) {
        return Math.toIntExact(getLong(k, dflt));
    }
}
