package dev.flinch.flink.source;

import dev.flinch.flink.Trade;
import dev.flinch.flink.faults.Faults;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Emits each split's trades through the split's own output, so Flink generates watermarks per
 * symbol and combines them by minimum (a finished symbol's output is released and stops holding
 * the watermark back). The split state it checkpoints is the id after the last one emitted;
 * everything runs on the task's mailbox thread, so emitting and snapshotting never interleave.
 */
final class TradeReader implements SourceReader<Trade, TradeSplit> {
    private final SourceReaderContext ctx;
    private final Supplier<Feed> feedFactory;
    private final Map<String, long[]> splits = new LinkedHashMap<>(); // symbol -> {next, until}
    private final Map<String, SourceOutput<Trade>> outputs = new HashMap<>();
    private final List<TradeSplit> added = new ArrayList<>();
    private Feed feed;
    private boolean noMoreSplits;
    private int live;
    /** Records emitted since the reader last yielded to the task's mailbox. */
    private int sinceYield;
    private static final int YIELD_EVERY = 64;
    /** Completed when the split assignment is complete (the mailbox polls again then). */
    private final CompletableFuture<Void> assigned = new CompletableFuture<>();

    TradeReader(SourceReaderContext ctx, Supplier<Feed> feedFactory) {
        this.ctx = ctx;
        this.feedFactory = feedFactory;
    }

    @Override
    public void start() {}

    @Override
    public void addSplits(List<TradeSplit> list) {
        added.addAll(list);
        for (TradeSplit s : list) {
            splits.put(s.symbol, new long[] {s.next, s.until});
            if (!s.finished()) live++;
        }
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
        assigned.complete(null);
    }

    @Override
    public InputStatus pollNext(ReaderOutput<Trade> output) throws Exception {
        if (feed == null) {
            if (!noMoreSplits) return InputStatus.NOTHING_AVAILABLE;
            // All splits are known: one feed (one socket) for all of this reader's symbols.
            feed = feedFactory.get();
            for (TradeSplit s : added) {
                if (s.finished()) continue;
                long[] c = splits.get(s.symbol);
                feed.add(s.symbol, c[0], c[1]);
            }
        }
        if (live == 0) return InputStatus.END_OF_INPUT;
        // Yield now and then even while trades keep coming: timers (periodic watermarks) and
        // checkpoint triggers are mails of the task's mailbox, and a source that always has
        // more was seen to delay them for seconds here.
        if (++sinceYield > YIELD_EVERY) {
            sinceYield = 0;
            return InputStatus.NOTHING_AVAILABLE;
        }
        Trade t = feed.poll();
        if (t == null) return InputStatus.NOTHING_AVAILABLE;
        long[] c = splits.get(t.symbol);
        if (c == null || (c[0] >= 0 && t.id < c[0])) return InputStatus.MORE_AVAILABLE; // not ours / already emitted
        SourceOutput<Trade> out = outputs.computeIfAbsent(t.symbol, output::createOutputForSplit);
        out.collect(t, t.time);
        c[0] = t.id + 1;
        if (c[1] >= 0 && c[0] > c[1]) {
            output.releaseOutputForSplit(t.symbol);
            outputs.remove(t.symbol);
            if (--live == 0) return InputStatus.END_OF_INPUT;
        }
        return InputStatus.MORE_AVAILABLE;
    }

    @Override
    public List<TradeSplit> snapshotState(long checkpointId) {
        Faults.check(Faults.SOURCE_SNAPSHOT, "Source#" + ctx.getIndexOfSubtask());
        List<TradeSplit> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : splits.entrySet()) out.add(new TradeSplit(e.getKey(), e.getValue()[0], e.getValue()[1]));
        return out;
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        if (feed == null) return assigned;
        return feed.available();
    }

    @Override
    public void close() {
        if (feed != null) feed.close();
    }
}
