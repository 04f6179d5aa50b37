package dev.flinch.flink.faults;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * flinch's fault plan inside a real Flink job: {@code crash@checkpoint.complete#2},
 * {@code kill@sink.commit#1[Source]}, comma separated, the same text as {@code flinch chaos --faults}.
 * At the occurrence-th passage of a point (counted over the whole JVM: counters are static, so
 * they survive Flink's in-JVM restarts, which reload nothing) the fault fires once:
 * - crash: throws {@link InjectedCrash}; the task fails and Flink's restart strategy restores;
 * - kill: {@code Runtime.halt}, a process kill; flinch restarts the JVM from the latest retained
 *   checkpoint. Occurrences of the next JVM count from its own start; the driver passes only
 *   the faults that have not fired yet.
 * Before firing, the fault is appended (and forced to disk) to the fired log, so the driver
 * knows what happened even after a halt. Every passage is also counted in {@link #passages}.
 */
public final class Faults {
    public static final String PROCESS = "task.process";
    public static final String SOURCE_SNAPSHOT = "checkpoint.source-snapshot";
    public static final String SYNC_SNAPSHOT = "checkpoint.sync-snapshot";
    public static final String COMPLETE = "checkpoint.complete";
    public static final String PRE_COMMIT = "sink.pre-commit";
    public static final String COMMIT = "sink.commit";
    public static final String RESTORE = "restore";
    public static final List<String> POINTS = List.of(PROCESS, SOURCE_SNAPSHOT, SYNC_SNAPSHOT, COMPLETE, PRE_COMMIT, COMMIT, RESTORE);

    private static final Pattern FAULT = Pattern.compile("^(crash|kill)@([a-z.-]+)#(\\d+)(?:\\[([^\\]]+)\\])?$");

    public record Fault(String kind, String point, long occurrence, String task, String text) {}

    private static volatile List<Fault> plan = List.of();
    private static volatile Path firedLog;
    private static final Map<String, AtomicLong> passages = new ConcurrentHashMap<>();
    private static final Map<Fault, Boolean> fired = new ConcurrentHashMap<>();

    private Faults() {}

    public static List<Fault> parse(String text) {
        List<Fault> l = new ArrayList<>();
        if (text == null || text.isBlank()) return l;
        for (String part : text.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) continue;
            Matcher m = FAULT.matcher(s);
            if (!m.matches()) throw new IllegalArgumentException("cannot parse fault \"" + s + "\": expected crash@<point>#<occurrence>[<task>] or kill@...");
            if (!POINTS.contains(m.group(2))) throw new IllegalArgumentException("fault \"" + s + "\": point " + m.group(2) + " is not reachable from user code in real Flink; reachable: " + String.join(", ", POINTS));
            long occ = Long.parseLong(m.group(3));
            if (occ < 1) throw new IllegalArgumentException("fault \"" + s + "\": occurrence must be >= 1");
            l.add(new Fault(m.group(1), m.group(2), occ, m.group(4), s));
        }
        return l;
    }

    /** Arms a plan for this JVM; {@code log} receives one line per fired fault (may be null). */
    public static void arm(List<Fault> faults, Path log) {
        plan = List.copyOf(faults);
        firedLog = log;
    }

    public static long passages(String point) {
        AtomicLong n = passages.get(point);
        return n == null ? 0 : n.get();
    }

    /** Called at a named point by the task named {@code task} ("Source#0", "Window#0", ...). */
    public static void check(String point, String task) {
        List<Fault> p = plan;
        if (p.isEmpty()) return;
        long n = passages.computeIfAbsent(point, k -> new AtomicLong()).incrementAndGet();
        for (Fault f : p) {
            if (!f.point.equals(point) || (f.task != null && !task.contains(f.task))) continue;
            // With a task filter the occurrence counts that task's passages; without, all of them.
            long count = f.task == null ? n : passages.computeIfAbsent(point + "|" + f.task, k -> new AtomicLong()).incrementAndGet();
            if (count != f.occurrence || fired.putIfAbsent(f, Boolean.TRUE) != null) continue;
            record(f, task);
            if (f.kind.equals("kill")) Runtime.getRuntime().halt(137);
            throw new InjectedCrash(f, task);
        }
    }

    private static synchronized void record(Fault f, String task) {
        Path log = firedLog;
        if (log == null) return;
        byte[] line = (f.text + "\t" + task + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(line));
            ch.force(true);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the fired-fault log " + log, e);
        }
    }

    /** A task failure injected by flinch's plan. */
    public static final class InjectedCrash extends RuntimeException {
        public InjectedCrash(Fault f, String task) {
            super("injected crash " + f.text + " in " + task);
        }
    }
}
