package dev.procpool;

import static dev.procpool.FaultTestSupport.append;
import static dev.procpool.FaultTestSupport.countLines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.internal.worker.FrameChannel;
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
 * split) or fails that one input or call at once, saying the size and the limit; a result that cannot
 * be sent is its task's failure, not a crash; {@code close()} returns. The values are a few hundred MiB:
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

    @Test
    void anInputTooBigForAFrameFailsAloneAndAtOnce() {
        byte[] huge = new byte[LIMIT + MIB];
        List<byte[]> inputs = List.of(new byte[10], huge, new byte[20]);
        try (ProcessPool pool = pool(0)) {
            Throwable thrown = catchThrowable(() -> pool.map(x -> x.length, inputs, 3));
            assertThat(thrown).isExactlyInstanceOf(ProcessPoolException.class);
            assertThat(((ProcessPoolException) thrown).inputIndex()).isEqualTo(1);
            assertThat(thrown.getMessage()).contains("input 1").contains(String.valueOf(LIMIT))
                    .contains(huge.length + 6 + " bytes"); // a tag byte and a 5-byte length ahead of the bytes

            Iterator<Integer> lazy = pool.imap(x -> x.length, inputs, 3);
            assertThat(lazy.next()).isEqualTo(10);
            assertThat(catchThrowable(lazy::next)).isExactlyInstanceOf(ProcessPoolException.class);
            assertThat(lazy.next()).isEqualTo(20);
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    @Test
    void aChunkTooBigForOneFrameIsSplit() {
        byte[] big = new byte[200 * MIB]; // three of them make a chunk over the limit; two fit
        big[big.length - 1] = 7;
        List<byte[]> inputs = List.of(big, big, big);
        try (ProcessPool pool = pool(0)) {
            assertThat(pool.map(x -> x.length + x[x.length - 1], inputs, 3)).containsExactly(
                    big.length + 7, big.length + 7, big.length + 7);
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
    void aResultTooBigForAFrameIsThatTasksFailureNotACrashAndIsNotRetried() {
        String runs = tmp.resolve("runs").toString();
        try (ProcessPool pool = pool(2)) {
            Throwable thrown = catchThrowable(() -> pool.map(x -> {
                if (x == 1) {
                    append(runs, "run\n");
                    return new byte[LIMIT];
                }
                return new byte[x];
            }, List.of(0, 1, 2), 3));
            assertThat(thrown).isInstanceOf(TaskFailedException.class);
            assertThat(((TaskFailedException) thrown).inputIndex()).isEqualTo(1);
            assertThat(thrown.getMessage()).contains("result").contains(String.valueOf(LIMIT))
                    .contains(LIMIT + 6 + " bytes");
            assertThat(countLines(Path.of(runs))).as("a task failure is not retried").isEqualTo(1);
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
