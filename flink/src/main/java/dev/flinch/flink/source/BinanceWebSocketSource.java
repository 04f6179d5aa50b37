package dev.flinch.flink.source;

import dev.flinch.flink.Trade;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The seed's {@code BinanceWebSocketSource} for Apache Flink (a FLIP-27 source): one split per
 * symbol whose checkpointed state is the next trade id, read from Binance's trade streams with
 * REST backfill (see {@link WsFeed}), pointed at any base URL: {@code flinch serve} in tests,
 * {@code wss://stream.binance.com:9443} and {@code https://api.binance.com} in production.
 * A symbol given an {@code until} id is bounded: the source ends when every symbol reached it.
 * {@link #fromTape} reads a pre-parsed tape file instead of the network (bench and diff).
 */
public final class BinanceWebSocketSource implements Source<Trade, TradeSplit, List<TradeSplit>>, ResultTypeQueryable<Trade> {
    private final List<TradeSplit> initial;
    private final String wsBase;
    private final String restBase;
    private final String tapePath;

    private BinanceWebSocketSource(List<TradeSplit> initial, String wsBase, String restBase, String tapePath) {
        this.initial = initial;
        this.wsBase = wsBase;
        this.restBase = restBase;
        this.tapePath = tapePath;
    }

    /** Live symbols from the newest trade on, unbounded. */
    public BinanceWebSocketSource(String wsBase, String restBase, String... symbols) {
        this(live(symbols), wsBase, restBase, null);
    }

    private static List<TradeSplit> live(String... symbols) {
        List<TradeSplit> l = new ArrayList<>();
        for (String s : symbols) l.add(new TradeSplit(s.toUpperCase(), -1, -1));
        return l;
    }

    /** Bounded symbols: each from its first id to its last id (inclusive), e.g. a recorded tape served by {@code flinch serve}. */
    public static BinanceWebSocketSource bounded(String wsBase, String restBase, List<TradeSplit> ranges) {
        return new BinanceWebSocketSource(List.copyOf(ranges), wsBase, restBase, null);
    }

    /** A pre-parsed tape file ({@code SYMBOL\tid\ttime\tquantityUnits} lines), bounded by its last id per symbol. */
    public static BinanceWebSocketSource fromTape(String path) {
        Map<String, Trade[]> tape = FileFeed.load(path);
        List<TradeSplit> l = new ArrayList<>();
        tape.keySet().stream().sorted().forEach(s -> {
            Trade[] t = tape.get(s);
            if (t.length > 0) l.add(new TradeSplit(s, t[0].id, t[t.length - 1].id));
        });
        return new BinanceWebSocketSource(l, null, null, path);
    }

    private List<String> symbols() {
        List<String> s = new ArrayList<>();
        for (TradeSplit t : initial) s.add(t.symbol);
        s.sort(null);
        return s;
    }

    @Override
    public Boundedness getBoundedness() {
        for (TradeSplit s : initial) if (s.until < 0) return Boundedness.CONTINUOUS_UNBOUNDED;
        return Boundedness.BOUNDED;
    }

    @Override
    public SplitEnumerator<TradeSplit, List<TradeSplit>> createEnumerator(SplitEnumeratorContext<TradeSplit> ctx) {
        return new SplitEnumeratorImpl(ctx, initial, symbols());
    }

    @Override
    public SplitEnumerator<TradeSplit, List<TradeSplit>> restoreEnumerator(SplitEnumeratorContext<TradeSplit> ctx, List<TradeSplit> state) {
        return new SplitEnumeratorImpl(ctx, state, symbols());
    }

    @Override
    public SimpleVersionedSerializer<TradeSplit> getSplitSerializer() {
        return TradeSplit.Serializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<List<TradeSplit>> getEnumeratorCheckpointSerializer() {
        return new SplitEnumeratorImpl.StateSerializer();
    }

    @Override
    public SourceReader<Trade, TradeSplit> createReader(SourceReaderContext ctx) {
        String tape = tapePath, ws = wsBase, rest = restBase;
        return new TradeReader(ctx, () -> tape != null ? new FileFeed(tape) : new WsFeed(ws, rest));
    }

    @Override
    public TypeInformation<Trade> getProducedType() {
        return TypeInformation.of(Trade.class);
    }
}
