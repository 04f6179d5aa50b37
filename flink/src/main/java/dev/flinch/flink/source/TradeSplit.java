package dev.flinch.flink.source;

import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * One symbol's trades: the split's checkpointed state is the next trade id to emit (the last
 * emitted id + 1). {@code until} is the last id of a finite tape (inclusive), or -1 for an
 * unbounded stream; {@code next} of -1 means "from whatever the stream sends first" (live).
 */
public final class TradeSplit implements SourceSplit, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public final String symbol;
    public final long next;
    public final long until;

    public TradeSplit(String symbol, long next, long until) {
        this.symbol = symbol;
        this.next = next;
        this.until = until;
    }

    @Override
    public String splitId() {
        return symbol;
    }

    public boolean finished() {
        return until >= 0 && next > until;
    }

    @Override
    public String toString() {
        return symbol + "[" + next + ".." + (until < 0 ? "" : until) + "]";
    }

    public static final class Serializer implements SimpleVersionedSerializer<TradeSplit> {
        public static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(TradeSplit s) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream o = new DataOutputStream(b);
            write(o, s);
            o.flush();
            return b.toByteArray();
        }

        @Override
        public TradeSplit deserialize(int version, byte[] bytes) throws IOException {
            if (version != 1) throw new IOException("unknown TradeSplit version " + version);
            return read(new DataInputStream(new ByteArrayInputStream(bytes)));
        }

        static void write(DataOutputStream o, TradeSplit s) throws IOException {
            o.writeUTF(s.symbol);
            o.writeLong(s.next);
            o.writeLong(s.until);
        }

        static TradeSplit read(DataInputStream in) throws IOException {
            return new TradeSplit(in.readUTF(), in.readLong(), in.readLong());
        }
    }
}
