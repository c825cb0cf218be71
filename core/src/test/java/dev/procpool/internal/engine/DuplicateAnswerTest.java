package dev.procpool.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;
import dev.procpool.SerializableFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A chunk given back by a cluster member that was given up may still be answered by that member after
 * another one answered it: each input's first answer counts, the second is dropped.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class DuplicateAnswerTest {
    private static final SerializableFunction<Integer, Integer> IDENTITY = x -> x;

    @Test
    void mapJobTakesTheFirstAnswerOfEachInput() {
        PoolCounters counters = new PoolCounters();
        MapJob job = new MapJob(IDENTITY, new Object[] {1, 2}, 2, counters, new FunctionCache());
        Chunk chunk = job.nextChunk();

        job.answered(chunk, 0, new Object[] {10, 20}, new ProcessPoolException[2], 2);
        job.answered(chunk, 0, new Object[] {11, 21}, new ProcessPoolException[2], 2);
        job.failed(0, new ProcessPoolException("late", null, 0));

        assertThat(job.future).isCompletedWithValue(List.of(10, 20));
        assertThat(counters.succeeded.get()).isEqualTo(2);
        assertThat(counters.failed.get()).isZero();
    }

    @Test
    void imapJobTakesTheFirstAnswerOfEachInput() throws Exception {
        PoolCounters counters = new PoolCounters();
        Scheduler scheduler = new Scheduler();
        ImapJob job = new ImapJob(IDENTITY, List.of(1, 2, 3).iterator(), false, 3, 1, scheduler::poke, counters,
                new FunctionCache());
        scheduler.add(job);
        ResultIterator<Object> results = job.start();
        assertThat(scheduler.awaitWork(5, TimeUnit.SECONDS)).isTrue();
        Chunk chunk = scheduler.pollNow();
        assertThat(chunk.size()).isEqualTo(3);

        job.answered(chunk, 0, new Object[] {1, 2, 3}, new ProcessPoolException[3], 3);
        job.answered(chunk, 0, new Object[] {-1, -2, -3}, new ProcessPoolException[3], 3);
        job.failed(1, new ProcessPoolException("late", null, 1));

        List<Object> seen = new ArrayList<>();
        results.forEachRemaining(seen::add);
        assertThat(seen).containsExactly(1, 2, 3);
        assertThat(counters.succeeded.get()).isEqualTo(3);
        assertThat(counters.failed.get()).isZero();
        assertThat(job.completion()).isDone();
    }
}
