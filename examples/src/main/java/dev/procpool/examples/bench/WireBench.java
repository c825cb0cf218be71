package dev.procpool.examples.bench;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import dev.procpool.internal.worker.Elements;
import dev.procpool.internal.worker.FrameChannel;
import dev.procpool.internal.worker.FrameType;
import dev.procpool.internal.worker.KryoSetup;
import dev.procpool.internal.worker.ResultsMessage;
import dev.procpool.internal.worker.TasksMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * JMH microbenchmarks of the wire's hot paths: a chunk of longs through the element codec (what a
 * {@code map} over longs moves), a record through Kryo, and the frame header checks. Run with
 * {@code java -cp examples/target/procpool-examples.jar org.openjdk.jmh.Main WireBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WireBench {
    public record Point(int x, int y, String label) {}

    @Param({"1000"})
    int chunk;

    private Kryo kryo;
    private Long[] longs;
    private byte[] encodedLongs;
    private int encodedLength;
    private byte[] frames;
    private final Output out = new Output(64 * 1024, -1);
    private final TasksMessage.Encoder tasks = new TasksMessage.Encoder();
    private final ResultsMessage.Encoder resultsOut = new ResultsMessage.Encoder();
    private final ResultsMessage.Decoder resultsIn = new ResultsMessage.Decoder();
    private FrameChannel.Frame resultsFrame;

    @Setup
    public void setUp() throws IOException {
        kryo = KryoSetup.newKryo(WireBench.class.getClassLoader());
        longs = new Long[chunk];
        for (int i = 0; i < chunk; i++) {
            longs[i] = (long) i * 7919;
        }
        out.reset();
        for (Long value : longs) {
            Elements.write(kryo, out, value);
        }
        encodedLongs = out.toBytes();
        encodedLength = encodedLongs.length;
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int i = 0; i < 100; i++) {
            FrameChannel.write(stream, FrameType.RESULTS, encodedLongs, 64);
        }
        frames = stream.toByteArray();
        for (Long value : longs) {
            resultsOut.addValue(kryo, value);
        }
        ByteArrayOutputStream results = new ByteArrayOutputStream();
        resultsOut.write(results);
        resultsFrame = FrameChannel.read(new ByteArrayInputStream(results.toByteArray()));
    }

    /** What the parent does per chunk of longs: the TASKS message as written to a worker's stdin. */
    @Benchmark
    public int encodeTasksFrame() throws IOException {
        tasks.reset();
        for (Long value : longs) {
            tasks.add(kryo, value);
        }
        tasks.write(OutputStream.nullOutputStream(), 1, 0);
        return tasks.count();
    }

    /** What the parent does per RESULTS frame of longs: status, then value, per task. */
    @Benchmark
    public void decodeResultsFrame(Blackhole hole) throws IOException {
        int count = resultsIn.begin(resultsFrame);
        for (int i = 0; i < count; i++) {
            if (resultsIn.status() != ResultsMessage.FAILURE) { // a value, alone or in a run
                hole.consume(resultsIn.value(kryo));
            }
        }
    }

    @Benchmark
    public int encodeChunkOfLongs() {
        out.reset();
        for (Long value : longs) {
            Elements.write(kryo, out, value);
        }
        return out.position();
    }

    @Benchmark
    public void decodeChunkOfLongs(Blackhole hole) {
        Input in = new Input(encodedLongs, 0, encodedLength);
        for (int i = 0; i < chunk; i++) {
            hole.consume(Elements.read(kryo, in));
        }
    }

    @Benchmark
    public Object recordRoundTrip() {
        out.reset();
        Elements.write(kryo, out, new Point(3, 4, "p"));
        return Elements.read(kryo, new Input(out.getBuffer(), 0, out.position()));
    }

    @Benchmark
    public Object listRoundTrip() {
        out.reset();
        Elements.write(kryo, out, List.of(1L, 2L, 3L, 4L));
        return Elements.read(kryo, new Input(out.getBuffer(), 0, out.position()));
    }

    /** 100 small frames: the magic and length checks per frame. */
    @Benchmark
    public int readHundredFrames() throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(frames);
        int total = 0;
        for (int i = 0; i < 100; i++) {
            total += FrameChannel.read(in).length();
        }
        return total;
    }
}
