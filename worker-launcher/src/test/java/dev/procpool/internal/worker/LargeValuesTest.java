package dev.procpool.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue 14: large values through shared-memory segments, at the element level (no worker JVM). */
@Timeout(60)
class LargeValuesTest {
    private static final int T = 4096;
    private final Kryo kryo = KryoSetup.newKryo(getClass().getClassLoader());
    private final SharedSegments segments = SharedSegments.withThreshold(T);

    record Blob(String name, byte[] data) {}

    @AfterEach
    void noSegmentOfThisJvmLeft() throws IOException {
        assertThat(ownSegments()).isEmpty();
    }

    private static List<Path> ownSegments() throws IOException {
        String prefix = "procpool-" + ProcessHandle.current().pid() + "-";
        try (Stream<Path> files = Files.list(SharedSegments.directory())) {
            return files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
        }
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    /** Writes the values as one frame would hold them; returns the frame and the segments made. */
    private Input write(List<Object> values, List<Path> created) {
        Output out = new Output(1024, -1);
        for (Object v : values) {
            Elements.write(kryo, out, v, segments, created);
        }
        return new Input(out.getBuffer(), 0, out.position());
    }

    @Test
    void bytesAtAndAroundTheThresholdRoundTripAndOnlyThoseAtOrAboveUseASegment() throws IOException {
        List<Object> values = List.of(bytes(0), bytes(T - 1), bytes(T), bytes(T + 1), bytes(3 * T + 5));
        List<Path> created = new ArrayList<>();
        Input in = write(values, created);
        assertThat(created).hasSize(3);
        assertThat(ownSegments()).containsExactlyInAnyOrderElementsOf(created);
        for (Object v : values) {
            assertThat((byte[]) Elements.read(kryo, in)).containsExactly((byte[]) v);
        }
        assertThat(ownSegments()).as("the reader unlinks each segment").isEmpty();
    }

    @Test
    void primitiveArraysBuffersStringsAndObjectsRoundTripMixedWithSmallOnes() {
        long[] longs = new long[T];
        Arrays.setAll(longs, i -> i * 1_000_003L);
        int[] ints = new int[T / 4 + 1];
        Arrays.setAll(ints, i -> -i);
        double[] doubles = new double[T];
        Arrays.setAll(doubles, i -> i / 3.0);
        float[] floats = {1f, 2f};
        char[] chars = "x".repeat(T).toCharArray();
        short[] shorts = new short[T];
        Arrays.fill(shorts, (short) -3);
        ByteBuffer direct = ByteBuffer.allocateDirect(T + 10).order(ByteOrder.LITTLE_ENDIAN);
        direct.put(bytes(T + 10)).flip().position(3);
        ByteBuffer small = ByteBuffer.wrap(bytes(10));
        String big = "é".repeat(T);
        Blob blob = new Blob("b", bytes(2 * T));
        List<Object> values = Arrays.asList(1L, longs, null, ints, doubles, floats, chars, shorts, direct, small, big,
                "small", blob, bytes(5));
        List<Path> created = new ArrayList<>();
        Input in = write(values, created);
        assertThat(created).hasSize(8);
        assertThat(Elements.read(kryo, in)).isEqualTo(1L);
        assertThat((long[]) Elements.read(kryo, in)).containsExactly(longs);
        assertThat(Elements.read(kryo, in)).isNull();
        assertThat((int[]) Elements.read(kryo, in)).containsExactly(ints);
        assertThat((double[]) Elements.read(kryo, in)).containsExactly(doubles);
        assertThat((float[]) Elements.read(kryo, in)).containsExactly(floats);
        assertThat((char[]) Elements.read(kryo, in)).containsExactly(chars);
        assertThat((short[]) Elements.read(kryo, in)).containsExactly(shorts);
        ByteBuffer back = (ByteBuffer) Elements.read(kryo, in);
        assertThat(back.isReadOnly()).isTrue();
        assertThat(back.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        assertThat(back).isEqualTo(direct);
        ByteBuffer smallBack = (ByteBuffer) Elements.read(kryo, in);
        assertThat(smallBack.isReadOnly()).isTrue();
        assertThat(smallBack).isEqualTo(small);
        assertThat(Elements.read(kryo, in)).isEqualTo(big);
        assertThat(Elements.read(kryo, in)).isEqualTo("small");
        Blob blobBack = (Blob) Elements.read(kryo, in);
        assertThat(blobBack.data()).containsExactly(blob.data());
        assertThat((byte[]) Elements.read(kryo, in)).containsExactly(bytes(5));
    }

    @Test
    void aValueTooBigForWhatIsLeftOfTheFrameIsSerializedIntoASegment() {
        Output out = new Output(64, 64); // a "frame" of 64 bytes
        Blob blob = new Blob("b", bytes(T / 2)); // under the threshold, over the frame
        List<Path> created = new ArrayList<>();
        Elements.write(kryo, out, blob, segments, created);
        assertThat(created).hasSize(1);
        Blob back = (Blob) Elements.read(kryo, new Input(out.getBuffer(), 0, out.position()));
        assertThat(back.data()).containsExactly(blob.data());
    }

    @Test
    void skippingALargeValueUnlinksItsSegment() {
        List<Path> created = new ArrayList<>();
        Input in = write(List.of(bytes(T), new Blob("b", bytes(T)), 3L), created);
        assertThat(created).hasSize(2);
        Elements.skip(kryo, in);
        Elements.skip(kryo, in);
        assertThat(Elements.read(kryo, in)).isEqualTo(3L);
    }

    @Test
    void aMissingSegmentFailsThatValueOnly() {
        List<Path> created = new ArrayList<>();
        Output out = new Output(1024, -1);
        Elements.write(kryo, out, bytes(T), segments, created);
        Elements.write(kryo, out, 5L, segments, created);
        SharedSegments.deleteAll(created);
        Input in = new Input(out.getBuffer(), 0, out.position());
        assertThatThrownBy(() -> Elements.read(kryo, in)).hasMessageContaining("shared-memory segment");
        assertThat(Elements.read(kryo, in)).isEqualTo(5L);
    }

    @Test
    void theReaderRefusesAReferenceToAFileThatIsNoSegment() throws IOException {
        Path other = Files.createTempFile("not-a-segment", ".value");
        try {
            Output out = new Output(256, -1);
            out.writeByte(Elements.SEGMENT);
            out.writeByte(LargeValues.BYTES);
            out.writeString(other.toString());
            out.writeVarLong(0, true);
            Input in = new Input(out.getBuffer(), 0, out.position());
            assertThatThrownBy(() -> Elements.read(kryo, in)).hasMessageContaining("not a procpool");
            assertThat(other).exists();
        } finally {
            Files.deleteIfExists(other);
        }
    }

    @Test
    void theSweepTakesFilesOfDeadPidsOnlyAndPidSweepsOneCreator() throws Exception {
        Path dir = SharedSegments.directory();
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        long deadPid = dead.pid();
        long livePid = ProcessHandle.current().pid();
        Path deadValue = Files.createFile(dir.resolve("procpool-" + deadPid + "-abc.value"));
        Path deadSlot = Files.createFile(dir.resolve("procpool-" + deadPid + "-123.slot"));
        Path live = Files.createFile(dir.resolve("procpool-" + livePid + "-abc.value"));
        Path foreign = Files.createFile(dir.resolve("procpool-" + deadPid + "-abc.other"));
        try {
            Files.setLastModifiedTime(deadValue, FileTime.fromMillis(0));
            assertThat(SharedSegments.sweepDead(dir)).contains(deadValue, deadSlot).doesNotContain(live, foreign);
            assertThat(deadValue).doesNotExist();
            assertThat(deadSlot).doesNotExist();
            assertThat(live).exists();
            assertThat(foreign).exists();
            assertThat(SharedSegments.sweepPid(dir, livePid)).containsExactly(live);
        } finally {
            for (Path p : List.of(deadValue, deadSlot, live, foreign)) {
                Files.deleteIfExists(p);
            }
        }
    }
}
