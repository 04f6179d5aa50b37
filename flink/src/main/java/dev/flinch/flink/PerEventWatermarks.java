package dev.flinch.flink;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;

/**
 * Flink's BoundedOutOfOrdernessWatermarks (max timestamp - bound - 1), emitted after every
 * event instead of every 200 ms of wall time. Used by the differential run only: Flink's
 * periodic emission depends on how fast this machine reads the tape, flinch's on virtual time,
 * so which trades count as late would differ by machine speed rather than by semantics.
 */
public final class PerEventWatermarks implements WatermarkGenerator<Trade> {
    private final long bound;
    private long max = Long.MIN_VALUE + 1;
    private long emitted = Long.MIN_VALUE;

    public PerEventWatermarks(long boundMs) {
        this.bound = boundMs;
        this.max = Long.MIN_VALUE + bound + 1;
    }

    @Override
    public void onEvent(Trade t, long ts, WatermarkOutput out) {
        if (ts > max) max = ts;
        long wm = max - bound - 1;
        if (wm > emitted) {
            emitted = wm;
            out.emitWatermark(new Watermark(wm));
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput out) {}
}
