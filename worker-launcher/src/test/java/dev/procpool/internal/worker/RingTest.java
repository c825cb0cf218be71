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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: medium values through a worker's rings, at the element and message level. Both sides run in
 * this JVM, each with its own mapping of the same file, as the parent and the worker have.
 */
@Timeout(60)
class RingTest {
    private static final int T = 1024;
    private static final int CAPACITY = 64 * 1024;

    @TempDir
    Path dir;

    private final Kryo kryo = KryoSetup.newKryo(getClass().getClassLoader());
    private WorkerRings parent;
    private WorkerRings worker;

    record Blob(String name, byte[] data) {}

    /** A value whose rebuilding fails while {@link #refuse} is set (its canonical constructor throws). */
    record Picky(byte[] data) {
        static volatile boolean refuse;

        Picky {
            if (refuse) {
                throw new IllegalArgumentException("Picky refuses to be rebuilt");
            }
        }
    }

    @AfterEach
    void acceptPickyAgain() {
        Picky.refuse = false;
    }

    @BeforeEach
    void mapBothSides() throws IOException {
        Path file = Files.createFile(dir.resolve("procpool-1-test.slot"));
        parent = WorkerRings.create(file, CAPACITY, T);
        worker = WorkerRings.map(file);
    }

    @AfterEach
    void unmap() {
        parent.unmap();
        worker.unmap();
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    /** The parent's writer with the worker's threshold (the worker side reads its own from a property). */
    private Ring out() {
        return parent.toWorker();
    }

    private Ring in() {
        return worker.toWorker();
    }

    private Input write(List<?> values, Ring ring) {
        Output out = new Output(1024, -1);
        for (Object v : values) {
            Elements.write(kryo, out, v, null, null, ring);
        }
        return new Input(out.getBuffer(), 0, out.position());
    }

    /** How many of the frame's values went into the ring: read them back, counting the ring's moves. */
    private static long ringBytes(Ring writer, long before) {
        return writer.head() - before;
    }

    @Test
    void theWorkerSeesTheCapacityTheParentMade() {
        assertThat(worker.toWorker().capacity()).isEqualTo(CAPACITY);
        assertThat(worker.toParent().capacity()).isEqualTo(CAPACITY);
    }

    @Test
    void aSlotFileWithoutRingsMapsToNone() throws IOException {
        Path plain = dir.resolve("plain.slot");
        RunningTaskSlot.create(plain);
        assertThat(WorkerRings.map(plain)).isNull();
        assertThat(WorkerRings.create(plain, 0)).isNull();
    }

    @Test
    void bytesAtAndAroundTheThresholdAndTheCapacityRoundTripAndOnlyThoseThatFitUseTheRing() {
        for (int size : new int[] {0, 1, T - 1, T, T + 1, CAPACITY - 1, CAPACITY, CAPACITY + 1}) {
            byte[] value = bytes(size, size);
            long before = out().head();
            Input frame = write(List.of(value), out());
            boolean inRing = size >= T && size <= CAPACITY;
            // a value that would cross the end of the ring starts over at its beginning, skipping the tail
            assertThat(ringBytes(out(), before)).as("ring bytes for %d", size)
                    .isBetween(inRing ? (long) size : 0L, inRing ? (long) size + CAPACITY - 1 : 0L);
            assertThat(frame.limit()).as("frame bytes for %d", size).isLessThan(inRing ? 32 : size + 32);
            assertThat(Arrays.equals((byte[]) Elements.read(kryo, frame, in()), value)).as("size %d", size).isTrue();
            assertThat(out().releasedByReader()).as("released after %d", size).isEqualTo(out().head());
        }
    }

    @Test
    void everyPrimitiveArrayKindBuffersAndOtherValuesRoundTripThroughTheRing() {
        long[] longs = new long[T];
        Arrays.setAll(longs, i -> i * 1_000_003L);
        int[] ints = new int[T / 4 + 1];
        Arrays.setAll(ints, i -> -i);
        double[] doubles = new double[T / 8];
        Arrays.setAll(doubles, i -> i / 3.0);
        float[] floats = new float[T / 4];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = i * 0.5f;
        }
        short[] shorts = new short[T / 2];
        char[] chars = new char[T / 2];
        for (int i = 0; i < shorts.length; i++) {
            shorts[i] = (short) (i - 300);
            chars[i] = (char) ('a' + i % 26);
        }
        ByteBuffer heapLittle = ByteBuffer.wrap(bytes(T + 5, 1)).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer direct = ByteBuffer.allocateDirect(2 * T);
        direct.put(bytes(2 * T, 2)).flip();
        direct.position(3); // only the remaining bytes travel
        Blob blob = new Blob("blob", bytes(2 * T, 3));
        String text = "t".repeat(T * 2);
        List<Object> values = Arrays.asList(longs, ints, doubles, floats, shorts, chars, heapLittle, direct, blob, text,
                7L, null);
        long before = out().head();
        Input frame = write(values, out());
        assertThat(ringBytes(out(), before)).as("all but the small ones in the ring").isGreaterThan(10L * T);
        assertThat((long[]) Elements.read(kryo, frame, in())).containsExactly(longs);
        assertThat((int[]) Elements.read(kryo, frame, in())).containsExactly(ints);
        assertThat((double[]) Elements.read(kryo, frame, in())).containsExactly(doubles);
        assertThat((float[]) Elements.read(kryo, frame, in())).containsExactly(floats);
        assertThat((short[]) Elements.read(kryo, frame, in())).containsExactly(shorts);
        assertThat((char[]) Elements.read(kryo, frame, in())).containsExactly(chars);
        ByteBuffer b1 = (ByteBuffer) Elements.read(kryo, frame, in());
        assertThat(b1.isReadOnly()).isTrue();
        assertThat(b1.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        assertThat(b1).isEqualTo(ByteBuffer.wrap(bytes(T + 5, 1)));
        ByteBuffer b2 = (ByteBuffer) Elements.read(kryo, frame, in());
        assertThat(b2.remaining()).isEqualTo(2 * T - 3);
        assertThat(b2).isEqualTo(ByteBuffer.wrap(bytes(2 * T, 2), 3, 2 * T - 3));
        assertThat(direct.position()).as("the caller's buffer is left as it was").isEqualTo(3);
        Blob back = (Blob) Elements.read(kryo, frame, in());
        assertThat(back.name()).isEqualTo("blob");
        assertThat(back.data()).containsExactly(blob.data());
        assertThat(Elements.read(kryo, frame, in())).isEqualTo(text);
        assertThat(Elements.read(kryo, frame, in())).isEqualTo(7L);
        assertThat(Elements.read(kryo, frame, in())).isNull();
        assertThat(out().releasedByReader()).isEqualTo(out().head());
    }

    @Test
    void valuesThatDoNotFitTheFreeRoomTakeTheFrameAndManyValuesFillTheRing() {
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 40; i++) { // 40 x 3 KiB: about twice the ring
            values.add(bytes(3 * T, i));
        }
        Input frame = write(values, out());
        long inRing = out().head();
        assertThat(inRing).as("the ring filled up").isGreaterThan(CAPACITY - 3L * T).isLessThanOrEqualTo(CAPACITY);
        assertThat(frame.limit()).as("the rest went inline").isGreaterThan(10 * 3 * T);
        for (byte[] v : values) {
            assertThat(Arrays.equals((byte[]) Elements.read(kryo, frame, in()), v)).isTrue();
        }
        assertThat(out().releasedByReader()).isEqualTo(inRing);
        // the room is back: the same values now all fit again, a ring's worth at a time
        Input again = write(values.subList(0, 10), out());
        assertThat(out().head() - inRing).as("all ten, after the tail skipped at the lap's end")
                .isBetween(10L * 3 * T, 11L * 3 * T);
        for (byte[] v : values.subList(0, 10)) {
            assertThat(Arrays.equals((byte[]) Elements.read(kryo, again, in()), v)).isTrue();
        }
    }

    @Test
    void valuesWrapAroundTheEndOfTheRingForManyLaps() {
        int[] sizes = {T, 5 * T + 3, 7 * T + 11, 2 * T - 1, 13 * T};
        long wrapped = 0;
        for (int round = 0; round < 200; round++) {
            List<byte[]> values = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                values.add(bytes(sizes[(round + k) % sizes.length], round * 3 + k));
            }
            long before = out().head();
            Input frame = write(values, out());
            long moved = out().head() - before;
            long payload = values.stream().mapToLong(v -> v.length).sum();
            assertThat(moved).as("round %d: all in the ring", round).isGreaterThanOrEqualTo(payload);
            wrapped += moved - payload; // the tail skipped at the end of a lap
            for (byte[] v : values) {
                assertThat(Arrays.equals((byte[]) Elements.read(kryo, frame, in()), v)).as("round %d", round).isTrue();
            }
            assertThat(out().releasedByReader()).isEqualTo(out().head());
        }
        assertThat(out().head()).as("many laps").isGreaterThan(20L * CAPACITY);
        assertThat(wrapped).as("values that would cross the end start over at the beginning").isPositive();
    }

    @Test
    void aValueThatCannotBeRebuiltBetweenRingValuesFailsAloneAndReleasesItsRoom() {
        List<Object> values = List.of(bytes(2 * T, 1), new Picky(bytes(3 * T, 2)), bytes(2 * T, 3));
        Input frame = write(values, out());
        assertThat(out().head()).as("all three in the ring").isBetween(7L * T, 8L * T);
        Picky.refuse = true;
        assertThat((byte[]) Elements.read(kryo, frame, in())).containsExactly((byte[]) values.get(0));
        assertThatThrownBy(() -> Elements.read(kryo, frame, in())).hasStackTraceContaining("Picky refuses");
        assertThat((byte[]) Elements.read(kryo, frame, in())).containsExactly((byte[]) values.get(2));
        assertThat(out().releasedByReader()).isEqualTo(out().head());
    }

    @Test
    void skippedValuesAndValuesReadOutOfOrderReleaseTheRoomInOrder() {
        Input first = write(List.of(bytes(2 * T, 1), bytes(2 * T, 2)), out());
        long afterFirst = out().head();
        Input second = write(List.of(bytes(3 * T, 3)), out());
        // the second frame is decoded first (a queued frame of another class loader scope): nothing is released yet
        assertThat((byte[]) Elements.read(kryo, second, in())).containsExactly(bytes(3 * T, 3));
        assertThat(out().releasedByReader()).isZero();
        Elements.skip(kryo, first, in());
        assertThat(out().releasedByReader()).isEqualTo(2L * T);
        Elements.skip(kryo, first, in());
        assertThat(out().releasedByReader()).as("the first frame done: both frames' room is back")
                .isEqualTo(out().head()).isGreaterThan(afterFirst);
    }

    @Test
    void theWriterNeverWaitsAndRollsBackWhatIsNotSent() {
        Input kept = write(List.of(bytes(CAPACITY / 2, 1)), out());
        long mark = out().head();
        write(List.of(bytes(CAPACITY / 4, 2)), out());
        assertThat(out().tryAllocate(CAPACITY / 2)).as("no room: refused at once").isEqualTo(-1);
        out().rollback(mark); // that frame was never sent
        assertThat(out().head()).isEqualTo(mark);
        assertThat((byte[]) Elements.read(kryo, kept, in())).containsExactly(bytes(CAPACITY / 2, 1));
        assertThat(out().tryAllocate(CAPACITY)).as("all room back once the reader released").isEqualTo(mark);
    }

    @Test
    void aFrameFullEvenForTheReferenceLeavesTheRingAsItWas() {
        Output tiny = new Output(4, 4);
        tiny.writeInt(0);
        assertThatThrownBy(() -> Elements.write(kryo, tiny, bytes(2 * T, 1), null, null, out()))
                .satisfies(e -> assertThat(Elements.isOverflow(e)).isTrue());
        assertThat(out().head()).isZero();
        assertThat(tiny.position()).isEqualTo(4);
    }

    @Test
    void aCorruptReferenceFailsItsValueWithoutReadingOutsideTheRing() {
        Output out = new Output(64, -1);
        out.writeByte(Elements.RING);
        out.writeByte(LargeValues.BYTES);
        out.writeVarLong(5, true);
        out.writeVarInt(CAPACITY + 1, true);
        assertThatThrownBy(() -> Elements.read(kryo, new Input(out.getBuffer(), 0, out.position()), in()))
                .hasMessageContaining("bad ring reference");
        assertThatThrownBy(() -> Elements.read(kryo, new Input(out.getBuffer(), 0, out.position())))
                .hasMessageContaining("ring this side has not mapped");
    }

    @Test
    void tasksAndResultsMessagesCarryRingValuesAndReleaseEvenUnreadableOnes() throws IOException {
        TasksMessage.Encoder tasks = new TasksMessage.Encoder(null, parent.toWorker());
        tasks.reset();
        assertThat(tasks.add(kryo, bytes(2 * T, 1))).isTrue();
        assertThat(tasks.add(kryo, new Picky(bytes(2 * T, 2)))).isTrue();
        java.io.ByteArrayOutputStream pipe = new java.io.ByteArrayOutputStream();
        tasks.write(pipe, 9, 0);
        FrameChannel.Frame frame = FrameChannel.read(new java.io.ByteArrayInputStream(pipe.toByteArray()));
        Picky.refuse = true;
        TasksMessage chunk = TasksMessage.read(kryo, frame, worker.toWorker());
        assertThat((byte[]) chunk.inputs()[0]).containsExactly(bytes(2 * T, 1));
        assertThat(chunk.inputs()[1]).isInstanceOf(Unreadable.class);
        assertThat(parent.toWorker().releasedByReader()).isEqualTo(parent.toWorker().head());

        // a chunk encoded but never written gives its room back at the next reset
        long mark = parent.toWorker().head();
        tasks.reset();
        assertThat(tasks.add(kryo, bytes(2 * T, 3))).isTrue();
        tasks.reset();
        assertThat(parent.toWorker().head()).isEqualTo(mark);

        // the worker's side has the default threshold (its own system property)
        int resultSize = WorkerRings.DEFAULT_THRESHOLD + 5;
        ResultsMessage.Encoder results = new ResultsMessage.Encoder(null, null, worker.toParent());
        results.addValue(kryo, bytes(resultSize, 4));
        results.addValue(kryo, bytes(resultSize, 5));
        pipe.reset();
        results.write(pipe);
        ResultsMessage.Decoder decoder = new ResultsMessage.Decoder(parent.toParent());
        assertThat(decoder.begin(FrameChannel.read(new java.io.ByteArrayInputStream(pipe.toByteArray())))).isEqualTo(2);
        assertThat(decoder.status()).isEqualTo(ResultsMessage.VALUE);
        decoder.skipValue(kryo); // its call is over
        assertThat(decoder.status()).isEqualTo(ResultsMessage.VALUE);
        assertThat((byte[]) decoder.value(kryo)).containsExactly(bytes(resultSize, 5));
        assertThat(worker.toParent().releasedByReader()).isEqualTo(worker.toParent().head()).isEqualTo(2L * resultSize);
    }
}
