package dev.flinch.flink;

/**
 * One spot trade as the job sees it. A Flink POJO (public fields, no-arg constructor).
 *
 * Deviation from the seed, on purpose: {@code quantity} is a {@code long} of 1e-8 units, not a
 * {@code double}. Flink's {@code sum} over a double depends on the order of the additions, and a
 * replay after a crash changes that order, so a float sum would report violations that are not
 * there. {@code count} is 1 per trade so the window can count as well as sum.
 */
public class Trade {
    public String symbol;
    public long id;
    /** Trade time T, ms: the event time windows use. */
    public long time;
    /** Quantity in 1e-8 units (exact). */
    public long quantity;
    public long count = 1;
    /** When the exchange sent it (E), ms; only the pre-parsed tape source uses it, to merge symbols. */
    public long arrival;

    public Trade() {}

    public Trade(String symbol, long id, long time, long quantity) {
        this.symbol = symbol;
        this.id = id;
        this.time = time;
        this.quantity = quantity;
    }

    public String getSymbol() {
        return symbol;
    }

    @Override
    public String toString() {
        return symbol + "#" + id + "@" + time + " q=" + Fixed.format(quantity);
    }
}
