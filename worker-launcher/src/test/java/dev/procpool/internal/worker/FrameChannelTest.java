package dev.procpool.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FrameChannelTest {

    @Test
    void framesRoundTripInOrderAndEndCleanly() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameChannel.write(out, FrameType.TASKS, "hello".getBytes(StandardCharsets.UTF_8), 5);
        FrameChannel.write(out, FrameType.RESULTS, "ab".getBytes(StandardCharsets.UTF_8), 2,
                "cd".getBytes(StandardCharsets.UTF_8), 2);
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());

        FrameChannel.Frame first = FrameChannel.read(in);
        assertThat(first.type()).isEqualTo(FrameType.TASKS);
        assertThat(new String(first.payload(), 0, first.length(), StandardCharsets.UTF_8)).isEqualTo("hello");
        FrameChannel.Frame second = FrameChannel.read(in);
        assertThat(new String(second.payload(), 0, second.length(), StandardCharsets.UTF_8)).isEqualTo("abcd");
        assertThat(FrameChannel.read(in)).isNull();
    }

    @Test
    void strayBytesAreACorruptFrameNotAnAllocation() {
        // what a task printing to the real stdout would put on the channel
        byte[] stray = "Hello from a task that wrote to fd 1\n".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> FrameChannel.read(new ByteArrayInputStream(stray)))
                .isInstanceOf(FrameChannel.CorruptFrameException.class)
                .hasMessageContaining("magic");
    }

    @Test
    void aLengthOverTheBoundIsRejectedBeforeReadingThePayload() {
        byte[] header = new byte[FrameChannel.HEADER_BYTES];
        FrameChannel.putInt(header, 0, FrameChannel.MAGIC);
        header[4] = FrameType.RESULTS;
        FrameChannel.putInt(header, 5, FrameChannel.MAX_PAYLOAD + 1);
        assertThatThrownBy(() -> FrameChannel.read(new ByteArrayInputStream(header)))
                .isInstanceOf(FrameChannel.CorruptFrameException.class)
                .hasMessageContaining("length");
        FrameChannel.putInt(header, 5, -5);
        assertThatThrownBy(() -> FrameChannel.read(new ByteArrayInputStream(header)))
                .isInstanceOf(FrameChannel.CorruptFrameException.class);
    }

    @Test
    void aStreamEndingInsideAFrameIsCorrupt() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameChannel.write(out, FrameType.TASKS, new byte[100], 100);
        byte[] cut = Arrays.copyOf(out.toByteArray(), 50);
        assertThatThrownBy(() -> FrameChannel.read(new ByteArrayInputStream(cut)))
                .isInstanceOf(FrameChannel.CorruptFrameException.class);
    }

    @Test
    void aReusedBufferHoldsEachFrameInTurnAndALargerFrameGetsItsOwn() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameChannel.write(out, FrameType.RESULTS, "first".getBytes(StandardCharsets.UTF_8), 5);
        FrameChannel.write(out, FrameType.RESULTS, "second!".getBytes(StandardCharsets.UTF_8), 7);
        byte[] big = new byte[100];
        big[99] = 42;
        FrameChannel.write(out, FrameType.RESULTS, big, 100);
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        byte[] reuse = new byte[16];

        FrameChannel.Frame first = FrameChannel.read(in, reuse);
        assertThat(first.payload()).isSameAs(reuse);
        assertThat(new String(first.payload(), 0, first.length(), StandardCharsets.UTF_8)).isEqualTo("first");
        FrameChannel.Frame second = FrameChannel.read(in, reuse);
        assertThat(new String(second.payload(), 0, second.length(), StandardCharsets.UTF_8)).isEqualTo("second!");
        FrameChannel.Frame third = FrameChannel.read(in, reuse);
        assertThat(third.payload()).isNotSameAs(reuse).hasSize(100);
        assertThat(third.payload()[99]).isEqualTo((byte) 42);
        assertThat(FrameChannel.keep(third.payload(), reuse)).isSameAs(third.payload());
        assertThat(FrameChannel.keep(new byte[FrameChannel.KEPT_BUFFER_MAX + 1], reuse)).isSameAs(reuse);
    }
}
