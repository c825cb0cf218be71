package dev.procpool;

import static dev.procpool.FaultTestSupport.append;
import static dev.procpool.FaultTestSupport.countLines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.internal.worker.FrameChannel;
import dev.procpool.internal.worker.SharedSegments;
import dev.procpool.testing.NoProcessLeft;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, item 3: nothing about a value's size hangs a call. An input, a chunk, a function or a
 * result bigger than one frame may carry ({@link FrameChannel#MAX_PAYLOAD}) either travels (a chunk is
 * split; since issue 14 a large value goes through shared memory) or fails that one call at once,
 * saying the size and the limit (a function capturing too much); {@code close()} returns. The values are a few hundred MiB:
 * the caller's heap (a quarter of the machine's memory by default) and each worker's hold them.
 */
@Timeout(120)
@NoProcessLeft
class FrameLimitTest {
    private static final int LIMIT = FrameChannel.MAX_PAYLOAD;
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path tmp;

    private static ProcessPool pool(int retries) {
        return ProcessPool.builder().workers(1).retries(retries).jvmOptions("-Xmx3g").build();
    }

    /** Issue 14: a value over the frame limit no longer fails: it travels through shared memory. */
    @Test
    void anInputOverTheFrameLimitTravelsThroughSharedMemory() {
        byte[] huge = new byte[LIMIT + MIB];
        huge[huge.length - 1] = 3;
        List<byte[]> inputs = List.of(new byte[10], huge, new byte[20]);
        try (ProcessPool pool = pool(0)) {
            assertThat(pool.map(x -> x.length + x[x.length - 1], inputs, 3)).containsExactly(10, huge.length + 3, 20);
            Iterator<Integer> lazy = pool.imap(x -> x.length, inputs, 3);
            assertThat(lazy.next()).isEqualTo(10);
            assertThat(lazy.next()).isEqualTo(huge.length);
            assertThat(lazy.next()).isEqualTo(20);
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    @Test
    void aChunkTooBigForOneFrameIsSplit() {
        byte[] big = new byte[200 * MIB]; // through shared memory: three travel in one frame
        big[big.length - 1] = 7;
        try (ProcessPool pool = pool(0)) {
            assertThat(pool.map(x -> x.length + x[x.length - 1], List.of(big, big, big), 3)).containsExactly(
                    big.length + 7, big.length + 7, big.length + 7);
            // values just under the shared-memory threshold stay inline: enough of them fill more than a frame
            byte[] inline = new byte[SharedSegments.get().threshold() - 16];
            inline[inline.length - 1] = 5;
            int count = (int) (LIMIT / inline.length) + 100;
            List<byte[]> many = java.util.Collections.nCopies(count, inline);
            List<Integer> lengths = pool.map(x -> x.length + x[x.length - 1], many, count);
            assertThat(lengths).hasSize(count).containsOnly(inline.length + 5);
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    @Test
    void aFunctionCapturingTooMuchFailsItsCallAtOnce() {
        byte[] captured = new byte[LIMIT];
        try (ProcessPool pool = pool(0)) {
            Throwable thrown = catchThrowable(() -> pool.map(x -> x + captured.length, List.of(1, 2)));
            assertThat(thrown).isExactlyInstanceOf(ProcessPoolException.class);
            assertThat(thrown.getMessage()).contains("function").contains(String.valueOf(LIMIT));
            assertThat(pool.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
        }
    }

    @Test
    void aResultOverTheFrameLimitTravelsThroughSharedMemoryAndRunsOnce() {
        String runs = tmp.resolve("runs").toString();
        try (ProcessPool pool = pool(2)) {
            List<byte[]> results = pool.map(x -> {
                if (x == 1) {
                    append(runs, "run\n");
                    byte[] value = new byte[LIMIT + MIB];
                    value[value.length - 1] = 9;
                    return value;
                }
                return new byte[x];
            }, List.of(0, 1, 2), 3);
            assertThat(results.get(0)).isEmpty();
            assertThat(results.get(1)).hasSize(LIMIT + MIB);
            assertThat(results.get(1)[LIMIT + MIB - 1]).isEqualTo((byte) 9);
            assertThat(results.get(2)).hasSize(2);
            assertThat(countLines(Path.of(runs))).isEqualTo(1);
            assertThat(pool.stats().workerCrashes()).isZero();
            assertThat(pool.stats().tasksRetried()).isZero();
        }
    }

    @Test
    void resultsThatFitInAFrameOnlyOneByOneAllArrive() {
        int size = 260 * MIB; // two in one frame would be over the limit
        try (ProcessPool pool = pool(0)) {
            List<byte[]> results = pool.map(x -> {
                byte[] value = new byte[size];
                value[0] = (byte) (int) x;
                return value;
            }, List.of(1, 2), 2);
            List<Integer> firstBytes = new ArrayList<>();
            for (byte[] value : results) {
                assertThat(value).hasSize(size);
                firstBytes.add((int) value[0]);
            }
            assertThat(firstBytes).containsExactly(1, 2);
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }
}
