package dev.procpool.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.ProcessPoolException;
import dev.procpool.TaskFailedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** A call with known inputs, fed outcomes by hand in any order: the answer never depends on the order. */
class MapJobTest {
    private final PoolCounters counters = new PoolCounters();

    private MapJob job(int inputs, int chunkSize) {
        Object[] values = new Object[inputs];
        Arrays.setAll(values, i -> i);
        return new MapJob((dev.procpool.SerializableFunction<Object, Object>) x -> x, values, chunkSize, counters,
                new FunctionCache());
    }

    private static TaskFailedException failure(long index) {
        return new TaskFailedException(index, "java.lang.IllegalStateException", "bad " + index, null);
    }

    private static Throwable outcome(MapJob job) {
        try {
            job.future.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void chunksAreCutInInputOrderAtTheChunkSize() {
        MapJob job = job(7, 3);
        List<String> chunks = new ArrayList<>();
        for (Chunk chunk; (chunk = job.nextChunk()) != null; ) {
            chunks.add(Arrays.toString(chunk.indices()) + Arrays.toString(chunk.inputs()));
        }
        assertThat(chunks).containsExactly("[0, 1, 2][0, 1, 2]", "[3, 4, 5][3, 4, 5]", "[6][6]");
        assertThat(job.exhausted()).isTrue();
    }

    @Test
    void resultsComeInInputOrderWhateverOrderTheyArriveIn() throws Exception {
        MapJob job = job(5, 1);
        for (int i : new int[] {4, 1, 3, 0}) {
            job.succeeded(i, "r" + i);
            assertThat(job.future).isNotDone();
        }
        job.succeeded(2, "r2");
        assertThat(job.future.get()).containsExactly("r0", "r1", "r2", "r3", "r4");
        assertThat(counters.succeeded.get()).isEqualTo(5);
    }

    @Test
    void theLowestFailingIndexWinsAndIsAnsweredOnceEveryLowerIndexIsDone() {
        MapJob job = job(10, 1);
        job.failed(7, failure(7));
        job.failed(3, failure(3));
        job.succeeded(9, "r9");
        assertThat(job.future).as("inputs 0-2 may still fail").isNotDone();
        job.succeeded(2, "r2");
        job.succeeded(0, "r0");
        assertThat(job.future).isNotDone();
        job.succeeded(1, "r1");
        assertThat(job.future).as("answered without waiting for 4-8").isCompletedExceptionally();
        assertThat(((ProcessPoolException) outcome(job)).inputIndex()).isEqualTo(3);
        job.failed(0, failure(0)); // too late, and a duplicate: ignored
        assertThat(((ProcessPoolException) outcome(job)).inputIndex()).isEqualTo(3);
    }

    @Test
    void theLowestFailingIndexWinsForEveryArrivalOrder() {
        Random random = new Random(11);
        for (int round = 0; round < 500; round++) {
            int n = 1 + random.nextInt(30);
            List<Integer> failing = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (random.nextInt(4) == 0) {
                    failing.add(i);
                }
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                order.add(i);
            }
            Collections.shuffle(order, random);
            MapJob job = job(n, 1 + random.nextInt(4));
            for (int i : order) {
                if (failing.contains(i)) {
                    job.failed(i, failure(i));
                } else {
                    job.succeeded(i, i);
                }
            }
            Throwable thrown = outcome(job);
            if (failing.isEmpty()) {
                assertThat(thrown).as("round %d", round).isNull();
            } else {
                assertThat(thrown).as("round %d, failing %s, order %s", round, failing, order)
                        .isInstanceOfSatisfying(TaskFailedException.class,
                                e -> assertThat(e.inputIndex()).isEqualTo(failing.get(0).longValue()));
            }
        }
    }

    @Test
    void duplicateOutcomesAreIgnored() throws Exception {
        MapJob job = job(3, 3);
        Chunk chunk = job.nextChunk();
        job.answered(chunk, 0, new Object[] {"a", "b"}, new ProcessPoolException[2], 2);
        job.succeeded(1, "again"); // a re-run after a crash answered twice
        job.failed(0, failure(0));
        assertThat(job.doneInputs()).isEqualTo(2);
        assertThat(job.failedInputs()).isZero();
        job.answered(chunk, 2, new Object[] {"c"}, new ProcessPoolException[1], 1);
        job.succeeded(2, "late");
        assertThat(job.future.get()).containsExactly("a", "b", "c");
        assertThat(counters.succeeded.get()).isEqualTo(3);
        assertThat(counters.failed.get()).isZero();
    }

    @Test
    void aBatchMixesValuesAndFailures() {
        MapJob job = job(4, 4);
        Chunk chunk = job.nextChunk();
        ProcessPoolException[] failures = {null, failure(1), null, failure(3)};
        job.answered(chunk, 0, new Object[] {"a", null, "c", null}, failures, 4);
        assertThat(((ProcessPoolException) outcome(job)).inputIndex()).isEqualTo(1);
        assertThat(job.failedInputs()).isEqualTo(2);
        assertThat(counters.failed.get()).isEqualTo(2);
        assertThat(counters.succeeded.get()).isEqualTo(2);
    }

    @Test
    void anEmptyCallIsAnsweredAtOnceAndAFailAllEndsTheRest() throws Exception {
        MapJob empty = job(0, 1);
        assertThat(empty.future.get()).isEmpty();
        assertThat(empty.nextChunk()).isNull();

        MapJob job = job(3, 1);
        job.succeeded(0, "r0");
        job.failAll(new ProcessPoolException("the pool was terminated"));
        assertThat(job.isFinished()).isTrue();
        assertThat(job.exhausted()).isTrue();
        assertThat(job.nextChunk()).isNull();
        assertThatThrownBy(job.future::get).hasCauseInstanceOf(ProcessPoolException.class)
                .hasMessageContaining("terminated");
    }
}
