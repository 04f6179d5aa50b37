package dev.flinch.flink.source;

import dev.flinch.flink.Trade;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A bounded, pre-parsed tape (one trade a line: {@code SYMBOL\tid\ttimeMs\tquantityUnits\tarrivalMs},
 * ids increasing per symbol) as a feed: the benchmark and the differential test read the exact
 * trades flinch's engine reads, without a network in between. The symbols are merged by arrival
 * time (ties: the order the symbols were added), as flinch's simulated feed delivers them, so
 * both engines see the same interleaving and judge lateness alike.
 */
final class FileFeed implements Feed {
    private static final Map<String, Map<String, Trade[]>> CACHE = new ConcurrentHashMap<>();
    private static final CompletableFuture<Void> READY = CompletableFuture.completedFuture(null);

    private final Map<String, Trade[]> tape;
    private final List<Cursor> cursors = new ArrayList<>();

    private static final class Cursor {
        final Trade[] trades;
        int pos;
        final long until;

        Cursor(Trade[] trades, int pos, long until) {
            this.trades = trades;
            this.pos = pos;
            this.until = until;
        }
    }

    FileFeed(String path) {
        this.tape = CACHE.computeIfAbsent(path, FileFeed::load);
    }

    static Map<String, Trade[]> load(String path) {
        Map<String, List<Trade>> by = new HashMap<>();
        try (BufferedReader r = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isEmpty()) continue;
                String[] f = line.split("\t");
                if (f.length != 5) throw new IllegalArgumentException(path + ":" + n + ": expected SYMBOL\\tid\\ttime\\tquantity\\tarrival");
                Trade t = new Trade(f[0], Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]));
                t.arrival = Long.parseLong(f[4]);
                by.computeIfAbsent(f[0], k -> new ArrayList<>()).add(t);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path, e);
        }
        Map<String, Trade[]> out = new HashMap<>();
        by.forEach((k, v) -> out.put(k, v.toArray(new Trade[0])));
        return out;
    }

    @Override
    public void add(String symbol, long next, long until) {
        Trade[] t = tape.getOrDefault(symbol, new Trade[0]);
        int lo = 0, hi = t.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (t[mid].id < next) lo = mid + 1;
            else hi = mid;
        }
        cursors.add(new Cursor(t, lo, until));
    }

    @Override
    public Trade poll() {
        Cursor best = null;
        for (Cursor c : cursors) {
            if (c.pos >= c.trades.length || (c.until >= 0 && c.trades[c.pos].id > c.until)) continue;
            if (best == null || c.trades[c.pos].arrival < best.trades[best.pos].arrival) best = c;
        }
        if (best == null) return null;
        Trade src = best.trades[best.pos++];
        // A copy: the cached tape is shared by every reader in the JVM, and Flink may reuse objects.
        return new Trade(src.symbol, src.id, src.time, src.quantity);
    }

    @Override
    public CompletableFuture<Void> available() {
        return READY;
    }

    @Override
    public void close() {}

}
