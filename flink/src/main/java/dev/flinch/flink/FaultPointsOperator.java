package dev.flinch.flink;

import dev.flinch.flink.faults.Faults;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.concurrent.locks.LockSupport;

/**
 * The identity on trades, chained to the source: where user code reaches flinch's named points
 * inside a task — every record ({@code task.process}), the operator's synchronous snapshot
 * ({@code checkpoint.sync-snapshot}), {@code notifyCheckpointComplete} ({@code checkpoint.complete})
 * and {@code initializeState} when restored ({@code restore}).
 *
 * Two knobs shape timing (both off by default):
 * - throttle: each record takes {@code throttleNanos}, so a tape spreads over seconds and
 *   checkpoints happen while trades flow;
 * - barrier delay: subtasks other than 0 hold their checkpoint barrier back that long
 *   ({@code prepareSnapshotPreBarrier} runs before the barrier leaves), as a backpressured
 *   source would. Under AT_LEAST_ONCE the window then counts subtask 0's records that passed
 *   its barrier into the snapshot, and a restore replays them: the double count flinch's
 *   checkers must find. Under EXACTLY_ONCE alignment holds those records back.
 */
public final class FaultPointsOperator extends AbstractStreamOperator<Trade> implements OneInputStreamOperator<Trade, Trade> {
    private final long throttleNanos;
    private final long barrierDelayMs;
    private transient String task;
    private transient int subtask;
    private transient ListState<Long> marker;

    public FaultPointsOperator(long throttleNanos, long barrierDelayMs) {
        this.throttleNanos = throttleNanos;
        this.barrierDelayMs = barrierDelayMs;
    }

    private String task() {
        if (task == null) {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            task = "Source#" + subtask;
        }
        return task;
    }

    @Override
    public void processElement(StreamRecord<Trade> element) {
        Faults.check(Faults.PROCESS, task());
        if (throttleNanos > 0) LockSupport.parkNanos(throttleNanos);
        output.collect(element);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        task();
        if (barrierDelayMs > 0 && subtask > 0) Thread.sleep(barrierDelayMs); // real-time: a slow upstream holds its barrier
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        marker.update(java.util.List.of(context.getCheckpointId()));
        Faults.check(Faults.SYNC_SNAPSHOT, task());
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        // A one-entry operator state: an operator with no state of its own was not told it was restored.
        marker = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("fault-points", Long.class));
        if (context.isRestored() || marker.get().iterator().hasNext()) Faults.check(Faults.RESTORE, task());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        Faults.check(Faults.COMPLETE, task());
    }
}
