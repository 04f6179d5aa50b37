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
    private transient String task;

    private String task() {
        if (task == null) task = "Source#" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        return task;
    }

    @Override
    public void open(OpenContext ctx) {
        task();
    }

    @Override
    public Trade map(Trade t) {
        Faults.check(Faults.PROCESS, task);
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
