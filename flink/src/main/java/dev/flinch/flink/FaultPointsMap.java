package dev.flinch.flink;

import dev.flinch.flink.faults.Faults;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

/**
 * The identity on trades, chained to the source: where user code reaches flinch's named points
 * inside a task — every record ({@code task.process}), the operator's synchronous snapshot
 * ({@code checkpoint.sync-snapshot}), {@code notifyCheckpointComplete}
 * ({@code checkpoint.complete}) and {@code initializeState} when restored ({@code restore}).
 */
public final class FaultPointsMap extends RichMapFunction<Trade, Trade> implements CheckpointedFunction, CheckpointListener {
    /**
     * Nanoseconds each record takes (0 = none): spreads a tape over seconds so that checkpoints
     * happen while trades flow, and the two sources' barriers reach the window at different
     * moments (what AT_LEAST_ONCE's unaligned snapshot gets wrong). Subtask i takes (1 + 3i)
     * times as long: sources at different speeds, so a barrier waits behind a slow record while
     * the other source's records pass it.
     */
    private final long throttleNanos;
    private transient String task;
    private transient long nanos;

    public FaultPointsMap(long throttleNanos) {
        this.throttleNanos = throttleNanos;
    }

    private String task() {
        if (task == null) task = "Source#" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        return task;
    }

    @Override
    public void open(OpenContext ctx) {
        task();
        nanos = throttleNanos * (1 + 3L * getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public Trade map(Trade t) {
        Faults.check(Faults.PROCESS, task);
        if (nanos > 0) java.util.concurrent.locks.LockSupport.parkNanos(nanos);
        return t;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) {
        Faults.check(Faults.SYNC_SNAPSHOT, task());
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) {
        if (ctx.isRestored()) Faults.check(Faults.RESTORE, task());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        Faults.check(Faults.COMPLETE, task());
    }
}
