package dev.procpool.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Inputs and results through the packed runs of {@link ValueRuns}: every element type, nulls and mixed
 * types in one chunk, runs broken by other values and by failures, chunk edges, and a run split across
 * two calls of the reader (as the parent splits a frame between two chunks).
 */
class ValueRunsTest {
    private final Kryo kryo = KryoSetup.newKryo(ValueRunsTest.class.getClassLoader());

    /** Every type the codec knows, runs of each packed type, nulls and values that break runs. */
    private static List<Object> everyKind() {
        return Arrays.asList(1L, 2L, Long.MIN_VALUE, Long.MAX_VALUE, -1L, // a run of longs
                null, 7, Integer.MIN_VALUE, Integer.MAX_VALUE, -1, // nulls break runs; a run of ints
                0.5, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.MIN_VALUE, // doubles
                3L, 4, 5L, 2.5, 6L, // one-value runs of changing type
                "text", "", "ünïcödé", new byte[] {1, 2}, true, false, List.of(1, 2), new int[] {3},
                ByteBuffer.wrap(new byte[] {9}), 8L, 9L, null);
    }

    private TasksMessage roundTripInputs(List<Object> inputs) throws IOException {
        TasksMessage.Encoder encoder = new TasksMessage.Encoder();
        encoder.reset();
        for (Object input : inputs) {
            assertThat(encoder.add(kryo, input)).isTrue();
        }
        ByteArrayOutputStream channel = new ByteArrayOutputStream();
        encoder.write(channel, 3, 100);
        FrameChannel.Frame frame = FrameChannel.read(new ByteArrayInputStream(channel.toByteArray()));
        return TasksMessage.read(kryo, frame);
    }

    @Test
    void inputsOfEveryKindTravelInOrderWithNullsAndMixedTypesInOneChunk() throws IOException {
        List<Object> inputs = everyKind();
        TasksMessage chunk = roundTripInputs(inputs);
        assertThat(chunk.functionId()).isEqualTo(3);
        assertThat(chunk.firstSequence()).isEqualTo(100);
        assertThat(chunk.inputs()).hasSize(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            Object expected = inputs.get(i);
            Object actual = chunk.inputs()[i];
            if (expected instanceof ByteBuffer buffer) {
                assertThat(actual).isEqualTo(buffer.duplicate().rewind());
            } else {
                assertThat(actual).as("input %d", i).isEqualTo(expected);
                assertThat(actual == null ? null : actual.getClass()).isEqualTo(expected == null ? null : expected.getClass());
            }
        }
    }

    @Test
    void aLongRunOfInputsIsPackedEightBytesEach() throws IOException {
        List<Object> inputs = new ArrayList<>();
        for (long i = 0; i < 10_000; i++) {
            inputs.add(i * 1_000_003);
        }
        TasksMessage.Encoder encoder = new TasksMessage.Encoder();
        encoder.reset();
        inputs.forEach(input -> encoder.add(kryo, input));
        ByteArrayOutputStream channel = new ByteArrayOutputStream();
        encoder.write(channel, 1, 0);
        // header, ids and count, one run head, then the values: no tag per value
        assertThat(channel.size()).isLessThanOrEqualTo(FrameChannel.HEADER_BYTES + 8 + 8 + 5 + ValueRuns.HEAD_BYTES + 8 * 10_000);
        TasksMessage chunk = TasksMessage.read(kryo, FrameChannel.read(new ByteArrayInputStream(channel.toByteArray())));
        assertThat(chunk.inputs()).containsExactlyElementsOf(inputs);
    }

    @Test
    void chunkEdgesAnEmptyChunkAndAChunkOfOne() throws IOException {
        assertThat(roundTripInputs(List.of()).inputs()).isEmpty();
        assertThat(roundTripInputs(List.of(42L)).inputs()).containsExactly(42L);
        assertThat(roundTripInputs(List.of(4.25)).inputs()).containsExactly(4.25);
        assertThat(roundTripInputs(Arrays.asList((Object) null)).inputs()).containsExactly((Object) null);
    }

    @Test
    void anInputThatCannotBeSentLeavesTheRunAroundItIntact() throws IOException {
        TasksMessage.Encoder encoder = new TasksMessage.Encoder();
        encoder.reset();
        encoder.add(kryo, 1L);
        encoder.add(kryo, 2L);
        assertThatThrownBy(() -> encoder.add(kryo, Thread.currentThread())).isInstanceOf(RuntimeException.class);
        encoder.add(kryo, 3L);
        ByteArrayOutputStream channel = new ByteArrayOutputStream();
        encoder.write(channel, 1, 0);
        TasksMessage chunk = TasksMessage.read(kryo, FrameChannel.read(new ByteArrayInputStream(channel.toByteArray())));
        assertThat(chunk.inputs()).containsExactly(1L, 2L, 3L);
    }

    /** Decodes a RESULTS frame the way the parent can: runs in bulk, split in two, other outcomes one by one. */
    private List<Object> decodeResults(byte[] channel, int splitRunsAt) throws IOException {
        ResultsMessage.Decoder decoder = new ResultsMessage.Decoder();
        int count = decoder.begin(FrameChannel.read(new ByteArrayInputStream(channel)));
        List<Object> outcomes = new ArrayList<>();
        long[] bits = new long[count];
        while (outcomes.size() < count) {
            byte status = decoder.status();
            if (status == ResultsMessage.FAILURE) {
                outcomes.add(decoder.failure(getClass().getClassLoader()));
            } else if (status == ResultsMessage.VALUE) {
                outcomes.add(decoder.value(kryo));
            } else {
                int n = Math.min(decoder.runLeft(), splitRunsAt);
                decoder.takeRun(bits, n);
                for (int k = 0; k < n; k++) {
                    outcomes.add(ValueRuns.box(status, bits[k]));
                }
                if (decoder.runLeft() > 0) { // the rest one by one
                    outcomes.add(decoder.value(kryo));
                }
            }
        }
        return outcomes;
    }

    @Test
    void resultsOfEveryKindTravelInOrderWhetherRunsAreTakenWholeOrSplit() throws IOException {
        List<Object> values = everyKind();
        ResultsMessage.Encoder encoder = new ResultsMessage.Encoder();
        for (Object value : values) {
            encoder.addValue(kryo, value);
        }
        ByteArrayOutputStream channel = new ByteArrayOutputStream();
        encoder.write(channel);
        for (int split : new int[] {Integer.MAX_VALUE, 2, 1}) {
            List<Object> outcomes = decodeResults(channel.toByteArray(), split);
            assertThat(outcomes).as("split at %d", split).hasSize(values.size());
            for (int i = 0; i < values.size(); i++) {
                Object expected = values.get(i);
                Object actual = outcomes.get(i);
                if (expected instanceof ByteBuffer buffer) {
                    assertThat(actual).isEqualTo(buffer.duplicate().rewind());
                } else {
                    assertThat(actual).as("result %d, split at %d", i, split).isEqualTo(expected);
                    assertThat(actual == null ? null : actual.getClass()).isEqualTo(expected == null ? null : expected.getClass());
                }
            }
        }
    }

    @Test
    void aFailureInTheMiddleOfAPackedBatchFailsOnlyItsTask() throws IOException {
        ResultsMessage.Encoder encoder = new ResultsMessage.Encoder();
        for (long i = 0; i < 1000; i++) {
            if (i == 500) {
                encoder.addFailure(new ArithmeticException("bad 500"));
            } else if (i == 700) {
                encoder.addValue(kryo, Thread.currentThread()); // cannot travel: its task's failure
            } else {
                encoder.addValue(kryo, i * i);
            }
        }
        assertThat(encoder.count()).isEqualTo(1000);
        ByteArrayOutputStream channel = new ByteArrayOutputStream();
        encoder.write(channel);
        List<Object> outcomes = decodeResults(channel.toByteArray(), Integer.MAX_VALUE);
        assertThat(outcomes).hasSize(1000);
        for (int i = 0; i < 1000; i++) {
            if (i == 500) {
                assertThat(outcomes.get(i)).isInstanceOfSatisfying(RemoteFailure.class,
                        f -> assertThat(f.message()).isEqualTo("bad 500"));
            } else if (i == 700) {
                assertThat(outcomes.get(i)).isInstanceOfSatisfying(RemoteFailure.class,
                        f -> assertThat(f.message()).contains("cannot be serialized"));
            } else {
                assertThat(outcomes.get(i)).as("result %d", i).isEqualTo((long) i * i);
            }
        }
    }

    @Test
    void eachFrameStartsItsOwnRuns() throws IOException {
        ResultsMessage.Encoder encoder = new ResultsMessage.Encoder();
        ByteArrayOutputStream channel = new ByteArrayOutputStream();
        encoder.addValue(kryo, 1L);
        encoder.addValue(kryo, 2L);
        encoder.write(channel);
        encoder.addValue(kryo, 3L); // the same type as the run the last frame ended with
        encoder.write(channel);
        ByteArrayInputStream in = new ByteArrayInputStream(channel.toByteArray());
        ResultsMessage.Decoder decoder = new ResultsMessage.Decoder();
        assertThat(decoder.begin(FrameChannel.read(in))).isEqualTo(2);
        assertThat(decoder.status()).isEqualTo(ValueRuns.LONGS);
        assertThat(decoder.runLeft()).isEqualTo(2);
        assertThat(decoder.value(kryo)).isEqualTo(1L);
        assertThat(decoder.value(kryo)).isEqualTo(2L);
        assertThat(decoder.begin(FrameChannel.read(in))).isEqualTo(1);
        assertThat(decoder.status()).isEqualTo(ValueRuns.LONGS);
        assertThat(decoder.runLeft()).isEqualTo(1);
        assertThat(decoder.value(kryo)).isEqualTo(3L);
    }

    @Test
    void aRunLongerThanItsFrameIsACorruptChannel() throws IOException {
        byte[] payload = {1, ValueRuns.LONGS, (byte) 200, 0, 0, 0, 1, 2, 3}; // 200 longs claimed, 3 bytes there
        ByteArrayOutputStream channel = new ByteArrayOutputStream();
        FrameChannel.write(channel, FrameType.RESULTS, payload, payload.length);
        ResultsMessage.Decoder decoder = new ResultsMessage.Decoder();
        decoder.begin(FrameChannel.read(new ByteArrayInputStream(channel.toByteArray())));
        assertThatThrownBy(decoder::status).isInstanceOf(FrameChannel.CorruptFrameException.class)
                .hasMessageContaining("bad run of 200");
    }
}
