package dev.flinch.flink;

import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** The window's arithmetic and its output line. */
public final class WindowFunctions {
    private WindowFunctions() {}

    /**
     * {@code sum("quantity")} plus a count. Flink's {@code sum("quantity")} keeps the other fields
     * of the window's first trade, so it cannot count; flinch's checker compares counts too. This
     * reduce is that sum with {@code count} summed beside it (exact: longs).
     */
    public static final class SumQuantity implements ReduceFunction<Trade> {
        @Override
        public Trade reduce(Trade a, Trade b) {
            Trade r = new Trade(a.symbol, a.id, a.time, Math.addExact(a.quantity, b.quantity));
            r.count = a.count + b.count;
            return r;
        }
    }

    /** One JSONL line per window, the format {@code flinch check} reads. */
    public static final class ToLine extends ProcessWindowFunction<Trade, String, String, TimeWindow> {
        @Override
        public void process(String symbol, Context ctx, Iterable<Trade> sums, Collector<String> out) {
            for (Trade t : sums) out.collect(line(symbol, ctx.window().getStart(), ctx.window().getEnd(), t.quantity, t.count));
        }
    }

    public static String line(String symbol, long start, long end, long quantity, long count) {
        return "{\"symbol\":\"" + symbol + "\",\"start\":" + start + ",\"end\":" + end + ",\"quantity\":\"" + Fixed.format(quantity) + "\",\"count\":" + count + "}";
    }

    public static String lateLine(Trade t) {
        return "{\"symbol\":\"" + t.symbol + "\",\"id\":" + t.id + ",\"time\":" + t.time + ",\"quantity\":\"" + Fixed.format(t.quantity) + "\"}";
    }
}
