package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** How much work one worker may hold, with a clock the test moves. */
class ChunkPacingTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final ChunkPacing pacing = new ChunkPacing(now::get);

    private void answerAfter(long nanos, int tasks, boolean stillBusy) {
        now.addAndGet(nanos);
        pacing.chunkAnswered(tasks, stillBusy);
    }

    @Test
    void theFirstChunkAlwaysFitsEvenWhenOthersAreIdle() {
        assertThat(pacing.hasRoom(0, 0, 1, () -> true)).isTrue();
    }

    @Test
    void aSecondChunkOnlyWhileNoOtherWorkerNeedsWork() {
        assertThat(pacing.hasRoom(1, 10, 2, () -> false)).isTrue();
        assertThat(pacing.hasRoom(1, 10, 2, () -> true)).isFalse();
        assertThat(pacing.hasRoom(2, 20, 2, () -> false)).as("slow or unknown pace: two at most").isFalse();
        assertThat(pacing.hasRoom(1, 10, 1, () -> false)).as("a caller may ask for one only").isFalse();
    }

    @Test
    void theOtherWorkersAreNotWalkedForAnIdleWorker() {
        assertThat(pacing.hasRoom(0, 0, 2, () -> {
            throw new AssertionError("asked");
        })).isTrue();
    }

    @Test
    void anIdleGapIsNotTheWorkersPace() {
        answerAfter(1_000, 10, false); // first completion: nothing to measure against
        assertThat(pacing.nanosPerTask()).isEqualTo(Double.MAX_VALUE);
        answerAfter(5_000_000_000L, 10, true); // idle before this chunk came: not a sample
        assertThat(pacing.nanosPerTask()).isEqualTo(Double.MAX_VALUE);
        answerAfter(100_000, 10, true); // busy all along: 10 µs per task
        assertThat(pacing.nanosPerTask()).isEqualTo(10_000);
    }

    @Test
    void thePaceIsSmoothed() {
        answerAfter(0, 1, true);
        answerAfter(100_000, 10, true);
        answerAfter(200_000, 10, true);
        assertThat(pacing.nanosPerTask()).isEqualTo(0.7 * 10_000 + 0.3 * 20_000);
    }

    @Test
    void fastTasksLetAWorkerHoldManySmallChunksUpToTheFastLimits() {
        answerAfter(0, 1, true);
        answerAfter(10_000, 10, true); // 1 µs per task
        assertThat(pacing.hasRoom(2, 20, ChunkPacing.MAX_CHUNKS_IN_FLIGHT, () -> false)).isTrue();
        assertThat(pacing.hasRoom(ChunkPacing.FAST_MAX_CHUNKS, 40, 2, () -> false)).isFalse();
        assertThat(pacing.hasRoom(3, ChunkPacing.FAST_MAX_TASKS, 2, () -> false)).isFalse();
        assertThat(pacing.hasRoom(2, 20, 2, () -> true)).as("never while another worker is idle").isFalse();
        assertThat(pacing.hasRoom(1, 10, 1, () -> false)).as("not for a caller asking for one").isFalse();
    }

    @Test
    void slowTasksKeepTwoChunksAtMost() {
        answerAfter(0, 1, true);
        answerAfter(10_000_000, 10, true); // 1 ms per task
        assertThat(pacing.hasRoom(2, 20, 2, () -> false)).isFalse();
    }
}
