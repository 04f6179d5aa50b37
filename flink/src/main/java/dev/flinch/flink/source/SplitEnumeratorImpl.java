package dev.flinch.flink.source;

import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import javax.annotation.Nullable;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Hands every symbol split out once, symbol i (sorted) to reader i mod parallelism, then tells each
 * reader there are no more. Its checkpoint is the splits not yet handed out: splits a reader
 * held are in that reader's state, and splits handed out after the last checkpoint come back
 * through {@link #addSplitsBack} on failover.
 */
final class SplitEnumeratorImpl implements SplitEnumerator<TradeSplit, List<TradeSplit>> {
    private final SplitEnumeratorContext<TradeSplit> ctx;
    private final List<TradeSplit> pending;
    /** Every symbol of the source, sorted: a symbol's owner is its index mod parallelism. */
    private final List<String> symbols;

    SplitEnumeratorImpl(SplitEnumeratorContext<TradeSplit> ctx, List<TradeSplit> pending, List<String> symbols) {
        this.ctx = ctx;
        this.pending = new ArrayList<>(pending);
        this.symbols = symbols;
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, @Nullable String requesterHostname) {}

    @Override
    public void addSplitsBack(List<TradeSplit> splits, int subtaskId) {
        pending.addAll(splits);
    }

    @Override
    public void addReader(int subtaskId) {
        int p = ctx.currentParallelism();
        List<TradeSplit> mine = new ArrayList<>();
        List<TradeSplit> rest = new ArrayList<>();
        for (TradeSplit s : pending) {
            // A stable owner per symbol (the same reader after a restart), spread over the readers.
            if (Math.floorMod(symbols.indexOf(s.symbol), p) == subtaskId) mine.add(s);
            else rest.add(s);
        }
        pending.clear();
        pending.addAll(rest);
        for (TradeSplit s : mine) ctx.assignSplit(s, subtaskId);
        ctx.signalNoMoreSplits(subtaskId);
    }

    @Override
    public List<TradeSplit> snapshotState(long checkpointId) {
        return new ArrayList<>(pending);
    }

    @Override
    public void close() {}

    static final class StateSerializer implements SimpleVersionedSerializer<List<TradeSplit>> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(List<TradeSplit> splits) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream o = new DataOutputStream(b);
            o.writeInt(splits.size());
            for (TradeSplit s : splits) TradeSplit.Serializer.write(o, s);
            o.flush();
            return b.toByteArray();
        }

        @Override
        public List<TradeSplit> deserialize(int version, byte[] bytes) throws IOException {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            int n = in.readInt();
            List<TradeSplit> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) out.add(TradeSplit.Serializer.read(in));
            return out;
        }
    }
}
