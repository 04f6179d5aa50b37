package dev.flinch.flink;

import dev.flinch.flink.faults.Faults;
import dev.flinch.flink.sink.FaultPointsFileSink;
import dev.flinch.flink.source.BinanceWebSocketSource;
import dev.flinch.flink.source.TradeSplit;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.restartstrategy.RestartStrategies;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.time.Time;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.runtime.state.filesystem.FsStateBackend;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.CheckpointConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.OutputTag;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The seed's job ("Binance Trade Processing") on Apache Flink 1.20, with the seed's own API
 * calls (FsStateBackend, RestartStrategies.fixedDelayRestart, Time, TumblingEventTimeWindows,
 * keyBy symbol, the window sum); intervals, paths, backend and mode come from arguments so
 * tests can shrink them. Runs on a MiniCluster in this JVM ({@code getExecutionEnvironment} with
 * flink-clients on the classpath). See {@link Args} for the arguments.
 */
@SuppressWarnings("deprecation") // the seed's FsStateBackend, RestartStrategies and Time, on purpose
public final class SeedJob {
    private SeedJob() {}

    public static void main(String[] argv) throws Exception {
        Args a;
        try {
            a = Args.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("flinch-flink: " + e.getMessage());
            System.exit(2);
            return;
        }
        Faults.arm(Faults.parse(a.get("faults", "")), a.has("fired-log") ? java.nio.file.Path.of(a.get("fired-log")) : null);
        org.apache.flink.api.common.JobExecutionResult r = build(a).execute("Binance Trade Processing");
        // For the benchmark: the job's own run time, without the JVM's start (stderr keeps stdout to the print sink).
        System.err.println("flinch-flink: net runtime ms " + r.getNetRuntime());
        StringBuilder p = new StringBuilder("flinch-flink: passages");
        for (String point : Faults.POINTS) p.append(' ').append(point).append('=').append(Faults.passages(point));
        System.err.println(p);
        // The MiniCluster's threads may linger; the job is done and its output committed.
        System.exit(0);
    }

    public static StreamExecutionEnvironment build(Args a) {
        Configuration conf = new Configuration();
        // Killed JVMs leave their checkpoints; a cancelled job keeps its last one too.
        conf.setString("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        if (a.has("restore")) conf.setString("execution.state-recovery.path", a.get("restore"));
        conf.setString("rest.bind-port", "0");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        // -1 keeps Flink's default (100 ms); 0 flushes every record, so a record can overtake a late barrier.
        if (a.getLong("buffer-timeout", -1) >= 0) env.setBufferTimeout(a.getLong("buffer-timeout", -1));

        long interval = a.getLong("interval", 60_000);
        CheckpointingMode mode = switch (a.get("mode", "exactly-once")) {
            case "exactly-once" -> CheckpointingMode.EXACTLY_ONCE;
            case "at-least-once" -> CheckpointingMode.AT_LEAST_ONCE;
            default -> throw new IllegalArgumentException("--mode must be exactly-once or at-least-once");
        };
        env.enableCheckpointing(interval, mode);
        CheckpointConfig cp = env.getCheckpointConfig();
        cp.setMinPauseBetweenCheckpoints(a.getLong("min-pause", 500));
        cp.setCheckpointTimeout(a.getLong("timeout", 600_000));
        cp.setMaxConcurrentCheckpoints(1);

        String checkpoints = new File(a.get("checkpoints", "/tmp/flinch/checkpoints")).toURI().toString();
        switch (a.get("backend", "filesystem")) {
            case "filesystem" -> env.setStateBackend(new FsStateBackend(checkpoints));
            case "hashmap" -> {
                env.setStateBackend(new HashMapStateBackend());
                cp.setCheckpointStorage(checkpoints);
            }
            case "rocksdb" -> {
                env.setStateBackend(new EmbeddedRocksDBStateBackend());
                cp.setCheckpointStorage(checkpoints);
            }
            default -> throw new IllegalArgumentException("--backend must be hashmap, filesystem or rocksdb");
        }
        env.setRestartStrategy(RestartStrategies.fixedDelayRestart(a.getInt("restart-attempts", 3), Time.milliseconds(a.getLong("restart-delay", 10_000))));

        long bound = a.getLong("out-of-orderness", 2_000);
        WatermarkStrategy<Trade> wm = switch (a.get("watermarks", "bounded")) {
            case "bounded" -> WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(bound));
            case "none" -> WatermarkStrategy.noWatermarks();
            case "per-event" -> WatermarkStrategy.forGenerator(ctx -> new PerEventWatermarks(bound));
            default -> throw new IllegalArgumentException("--watermarks must be bounded, none or per-event");
        };
        // Event time is the trade time T; the source attaches it to every record.
        DataStream<Trade> trades = env.fromSource(source(a), wm, "Binance Trade Source")
            .setParallelism(a.getInt("parallelism", 1))
            .transform("Fault points", TypeInformation.of(Trade.class), new FaultPointsOperator(a.getLong("throttle-us", 0) * 1000, a.getLong("barrier-delay", 0)))
            .setParallelism(a.getInt("parallelism", 1));

        OutputTag<Trade> late = new OutputTag<>("late") {};
        SingleOutputStreamOperator<String> windows = trades
            .keyBy(t -> t.symbol)
            .window(TumblingEventTimeWindows.of(org.apache.flink.streaming.api.windowing.time.Time.milliseconds(a.getLong("window", 60_000))))
            .sideOutputLateData(late)
            .reduce(new WindowFunctions.SumQuantity(), new WindowFunctions.ToLine())
            .name("Window(sum quantity)");

        switch (a.get("sink", "file")) {
            case "file" -> windows.sinkTo(new FaultPointsFileSink<>(FileSink.forRowFormat(new Path(new File(a.get("out")).toURI()), new SimpleStringEncoder<String>("UTF-8"))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .build())).name("FileSink");
            // The seed's .print(): not transactional, so a replay after a crash prints again (the teeth).
            case "print" -> windows.print();
            default -> throw new IllegalArgumentException("--sink must be file or print");
        }
        if (a.has("late")) {
            windows.getSideOutput(late).map(WindowFunctions::lateLine).print("late");
        }
        return env;
    }

    static BinanceWebSocketSource source(Args a) {
        if (a.has("tape")) return BinanceWebSocketSource.fromTape(a.get("tape"));
        if (!a.has("ws") || !a.has("rest")) throw new IllegalArgumentException("give --tape FILE, or --ws URL --rest URL --symbols SYM[:from:until],...");
        String[] syms = a.get("symbols", "").split(",");
        List<TradeSplit> ranges = new ArrayList<>();
        boolean bounded = false;
        for (String s : syms) {
            if (s.isBlank()) continue;
            String[] f = s.split(":");
            if (f.length == 3) {
                ranges.add(new TradeSplit(f[0].toUpperCase(), Long.parseLong(f[1]), Long.parseLong(f[2])));
                bounded = true;
            } else ranges.add(new TradeSplit(f[0].toUpperCase(), -1, -1));
        }
        if (ranges.isEmpty()) throw new IllegalArgumentException("--symbols is empty");
        return bounded || ranges.isEmpty() ? BinanceWebSocketSource.bounded(a.get("ws"), a.get("rest"), ranges)
            : new BinanceWebSocketSource(a.get("ws"), a.get("rest"), ranges.stream().map(r -> r.symbol).toArray(String[]::new));
    }
}
