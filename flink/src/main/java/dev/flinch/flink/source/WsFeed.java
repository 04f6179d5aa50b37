package dev.flinch.flink.source;

import dev.flinch.flink.Json;
import dev.flinch.flink.Trade;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Binance's trade streams over {@code java.net.http.WebSocket} (one combined stream,
 * {@code /stream?streams=a@trade/b@trade}) repaired with REST {@code historicalTrades?fromId=}:
 * - a trade id below the symbol's cursor is a duplicate (a reconnect replays, a backfill
 *   overlaps the stream) and is dropped and counted;
 * - a trade id above it is a gap: REST fills it from the cursor before the trade is passed on;
 * - a quiet stream (nothing for {@code stallMs}) is polled with REST, which also covers a
 *   resumed job whose new subscription joins the stream after the trades it still owes;
 * - a closed or failed socket is reopened with exponential backoff.
 * A bounded symbol ends at its {@code until} id, so a finite tape ends deterministically
 * whether or not the server ever closes the stream.
 * One thread does all of it and hands gapless, increasing trades to the reader through a
 * bounded queue (backpressure reaches the socket: frames are requested one at a time).
 */
final class WsFeed implements Feed {
    private static final long STALL_MS = 200;
    private static final int REST_LIMIT = 1000;

    private final String wsBase;
    private final String restBase;
    // HTTP/1.1: the JDK client otherwise offers an h2c upgrade on plain http, which a server
    // that upgrades websockets on the same port may take for a stream request.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, long[]> cursors = new LinkedHashMap<>(); // symbol -> {next, until}
    private final LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<Trade> out = new LinkedBlockingQueue<>(10_000);
    private volatile CompletableFuture<Void> available = new CompletableFuture<>();
    private volatile boolean running = true;
    private volatile Throwable failure;
    private Thread thread;
    private volatile WebSocket socket;
    private volatile boolean socketOpen;
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong backfilled = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();

    WsFeed(String wsBase, String restBase) {
        this.wsBase = wsBase.replaceAll("/+$", "");
        this.restBase = restBase.replaceAll("/+$", "");
    }

    @Override
    public synchronized void add(String symbol, long next, long until) {
        if (thread != null) throw new IllegalStateException("WsFeed: symbols are added before the first poll");
        cursors.put(symbol.toUpperCase(Locale.ROOT), new long[] {next, until});
    }

    @Override
    public Trade poll() throws Exception {
        start();
        Trade t = out.poll();
        if (t == null && failure != null) throw new Exception("Binance feed failed", failure);
        return t;
    }

    @Override
    public CompletableFuture<Void> available() {
        CompletableFuture<Void> f = available;
        if (!out.isEmpty() || failure != null) f.complete(null);
        return f;
    }

    private synchronized void start() {
        if (thread != null || cursors.isEmpty()) return;
        thread = new Thread(this::loop, "binance-feed " + cursors.keySet());
        thread.setDaemon(true);
        thread.start();
    }

    private void emit(Trade t) throws InterruptedException {
        out.put(t);
        CompletableFuture<Void> f = available;
        available = new CompletableFuture<>();
        f.complete(null);
    }

    private boolean done() {
        for (long[] c : cursors.values()) if (c[1] < 0 || c[0] <= c[1]) return false;
        return true;
    }

    private void loop() {
        long backoff = 50;
        long nextConnectAt = 0;
        try {
            while (running && !done()) {
                if (!socketOpen && System.currentTimeMillis() >= nextConnectAt) { // real-time: reconnect backoff
                    try {
                        connect();
                        backoff = 50;
                    } catch (Exception e) {
                        reconnects.incrementAndGet();
                        nextConnectAt = System.currentTimeMillis() + backoff; // real-time: reconnect backoff
                        backoff = Math.min(backoff * 2, 2_000);
                    }
                }
                String frame = frames.poll(STALL_MS, TimeUnit.MILLISECONDS);
                if (frame == null) {
                    for (Map.Entry<String, long[]> e : cursors.entrySet()) backfill(e.getKey(), e.getValue(), Long.MAX_VALUE);
                    continue;
                }
                String data = frame.contains("\"data\"") ? Json.object(frame, "data") : frame;
                if (data == null || !"trade".equals(Json.field(data, "e"))) continue; // replies to requests, other events
                Trade t = Json.trade(data, null);
                long[] c = cursors.get(t.symbol);
                if (c == null) continue;
                if (c[1] >= 0 && c[0] > c[1]) continue; // this symbol's tape is done
                if (c[0] < 0) c[0] = t.id; // live start: from the first trade seen
                if (t.id < c[0]) {
                    duplicates.incrementAndGet();
                    continue;
                }
                if (t.id > c[0]) backfill(t.symbol, c, t.id);
                if (t.id < c[0]) {
                    duplicates.incrementAndGet();
                    continue;
                }
                if (c[1] >= 0 && t.id > c[1]) continue;
                emit(t);
                c[0] = t.id + 1;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            failure = e;
            available.complete(null);
        } finally {
            WebSocket s = socket;
            if (s != null) s.abort();
        }
    }

    /** REST from the cursor up to (excluding) {@code below}, or until REST has nothing more. */
    private void backfill(String symbol, long[] c, long below) throws Exception {
        while (running && c[0] >= 0 && c[0] < below && (c[1] < 0 || c[0] <= c[1])) {
            List<Trade> page = historicalTrades(symbol, c[0]);
            int used = 0;
            for (Trade t : page) {
                if (t.id < c[0]) continue;
                if (t.id >= below || (c[1] >= 0 && t.id > c[1])) break;
                emit(t);
                backfilled.incrementAndGet();
                c[0] = t.id + 1;
                used++;
            }
            if (used == 0 || page.size() < REST_LIMIT) return;
        }
    }

    private List<Trade> historicalTrades(String symbol, long fromId) throws Exception {
        URI uri = URI.create(restBase + "/api/v3/historicalTrades?symbol=" + symbol + "&fromId=" + fromId + "&limit=" + REST_LIMIT);
        for (long wait = 50; ; wait = Math.min(wait * 2, 2_000)) {
            HttpResponse<String> r;
            try {
                r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                if (!running) return List.of();
                Thread.sleep(wait); // real-time: REST retry backoff
                continue;
            }
            if (r.statusCode() == 200) return parseArray(r.body(), symbol);
            if (r.statusCode() == 429 || r.statusCode() == 418) {
                long retry = r.headers().firstValueAsLong("retry-after").orElse(1);
                Thread.sleep(Math.max(wait, retry * 1000)); // real-time: Retry-After
            } else if (r.statusCode() >= 500) {
                Thread.sleep(wait); // real-time: REST retry backoff
            } else {
                throw new IllegalStateException("GET " + uri + " -> " + r.statusCode() + ": " + r.body());
            }
        }
    }

    static List<Trade> parseArray(String body, String symbol) {
        List<Trade> out = new ArrayList<>();
        int i = 0;
        while ((i = body.indexOf('{', i)) >= 0) {
            int j = body.indexOf('}', i);
            out.add(Json.trade(body.substring(i, j + 1), symbol));
            i = j + 1;
        }
        return out;
    }

    private void connect() throws Exception {
        StringBuilder streams = new StringBuilder();
        for (String s : cursors.keySet()) {
            if (streams.length() > 0) streams.append('/');
            streams.append(s.toLowerCase(Locale.ROOT)).append("@trade");
        }
        WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
            .buildAsync(URI.create(wsBase + "/stream?streams=" + streams), new Listener())
            .get(10, TimeUnit.SECONDS);
        socket = ws;
        socketOpen = true;
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                frames.add(partial.toString());
                partial.setLength(0);
            }
            // One frame at a time, and only while the feed keeps up: the socket feels the backpressure.
            if (frames.size() < 10_000) ws.request(1);
            else CompletableFuture.runAsync(() -> {
                while (running && frames.size() >= 10_000) {
                    try {
                        Thread.sleep(5); // real-time: waiting for the feed thread to drain
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                ws.request(1);
            });
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            socketOpen = false;
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            socketOpen = false;
        }
    }

    @Override
    public void close() {
        running = false;
        Thread t = thread;
        if (t != null) t.interrupt();
        WebSocket s = socket;
        if (s != null) s.abort();
    }
}
