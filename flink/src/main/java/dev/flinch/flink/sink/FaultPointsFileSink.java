package dev.flinch.flink.sink;

import dev.flinch.flink.faults.Faults;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.sink.FileSinkCommittable;
import org.apache.flink.connector.file.sink.writer.FileWriter;
import org.apache.flink.connector.file.sink.writer.FileWriterBucketState;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;
import java.util.Collection;
import java.util.List;

/**
 * Flink's FileSink (exactly-once part files: written in progress, made pending at the
 * checkpoint, committed when it completes) with flinch's two sink points around it:
 * {@code sink.pre-commit} in the writer's {@code prepareCommit} (the pre-commit at the barrier)
 * and {@code sink.commit} in the committer's {@code commit} (after the checkpoint completed).
 * Everything else is FileSink's own code.
 */
public final class FaultPointsFileSink<IN> implements Sink<IN>, SupportsWriterState<IN, FileWriterBucketState>, SupportsCommitter<FileSinkCommittable> {
    private final FileSink<IN> inner;

    public FaultPointsFileSink(FileSink<IN> inner) {
        this.inner = inner;
    }

    @Override
    @SuppressWarnings("deprecation")
    public SinkWriter<IN> createWriter(Sink.InitContext context) throws IOException {
        throw new UnsupportedOperationException("FaultPointsFileSink is created through WriterInitContext (Flink 1.19+)");
    }

    @Override
    public StatefulSinkWriter<IN, FileWriterBucketState> createWriter(WriterInitContext context) throws IOException {
        return new Writer<>(inner.createWriter(context), "Sink#" + context.getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public StatefulSinkWriter<IN, FileWriterBucketState> restoreWriter(WriterInitContext context, Collection<FileWriterBucketState> state) throws IOException {
        return new Writer<>(inner.restoreWriter(context, state), "Sink#" + context.getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public SimpleVersionedSerializer<FileWriterBucketState> getWriterStateSerializer() {
        return inner.getWriterStateSerializer();
    }

    @Override
    public Committer<FileSinkCommittable> createCommitter(CommitterInitContext context) throws IOException {
        Committer<FileSinkCommittable> c = inner.createCommitter(context);
        String task = "Committer#" + context.getTaskInfo().getIndexOfThisSubtask();
        return new Committer<>() {
            @Override
            public void commit(Collection<CommitRequest<FileSinkCommittable>> requests) throws IOException, InterruptedException {
                if (!requests.isEmpty()) Faults.check(Faults.COMMIT, task);
                c.commit(requests);
            }

            @Override
            public void close() throws Exception {
                c.close();
            }
        };
    }

    @Override
    public SimpleVersionedSerializer<FileSinkCommittable> getCommittableSerializer() {
        return inner.getCommittableSerializer();
    }

    private static final class Writer<IN> implements StatefulSinkWriter<IN, FileWriterBucketState>, CommittingSinkWriter<IN, FileSinkCommittable> {
        private final FileWriter<IN> w;
        private final String task;

        Writer(FileWriter<IN> w, String task) {
            this.w = w;
            this.task = task;
        }

        @Override
        public void write(IN element, Context context) throws IOException, InterruptedException {
            w.write(element, context);
        }

        @Override
        public void flush(boolean endOfInput) throws IOException, InterruptedException {
            w.flush(endOfInput);
        }

        @Override
        public void writeWatermark(Watermark watermark) throws IOException, InterruptedException {
            w.writeWatermark(watermark);
        }

        @Override
        public Collection<FileSinkCommittable> prepareCommit() throws IOException {
            Faults.check(Faults.PRE_COMMIT, task);
            return w.prepareCommit();
        }

        @Override
        public List<FileWriterBucketState> snapshotState(long checkpointId) throws IOException {
            return w.snapshotState(checkpointId);
        }

        @Override
        public void close() throws Exception {
            w.close();
        }
    }
}
