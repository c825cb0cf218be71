package dev.procpool.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The read-ahead window of a lazy call, with a hand-driven "worker": the feeder thread reads the input only
 * while fewer than {@code chunk × workers × 4} inputs are read and not yet consumed, however long the
 * consumer pauses, and reads on as the consumer takes results.
 */
@Timeout(20)
class ImapJobWindowTest {
    private static final int CHUNK = 5;
    private static final int WORKERS = 2;
    private static final long WINDOW = CHUNK * WORKERS * 4;

    private final PoolCounters counters = new PoolCounters();

    /** An endless input that counts what was read from it. */
    private static final class Counting implements Iterator<Object> {
        final AtomicLong pulled = new AtomicLong();

        @Override
        public boolean hasNext() {
            return true;
        }

        @Override
        public Object next() {
            return pulled.getAndIncrement();
        }
    }

    private ImapJob job(Iterator<?> source, boolean ordered) {
        return new ImapJob((dev.procpool.SerializableFunction<Object, Object>) x -> x, source, ordered, CHUNK, WORKERS,
                () -> { }, counters, new FunctionCache());
    }

    private static Optional<Thread> feeder(ImapJob job) {
        String name = "procpool-imap-feeder-" + job.id;
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).findFirst();
    }

    /** True once the feeder has stopped to wait for room (or has ended). */
    private static boolean feederWaits(ImapJob job) {
        return feeder(job).map(t -> t.getState() == Thread.State.WAITING || !t.isAlive()).orElse(true);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Plays a worker: runs every chunk ready now, the identity function. */
    private static int runReadyChunks(ImapJob job) {
        int ran = 0;
        for (Chunk chunk; (chunk = job.nextChunk()) != null; ) {
            for (int i = 0; i < chunk.size(); i++) {
                job.succeeded(chunk.indices()[i], chunk.inputs()[i]);
            }
            ran += chunk.size();
        }
        return ran;
    }

    @Test
    void inputsReadStayWithinTheWindowWhileTheConsumerPausesAndFollowItAfter() {
        Counting input = new Counting();
        ImapJob job = job(input, true);
        try (ResultIterator<Object> results = job.start()) {
            await("the feeder to fill the window and wait", () -> input.pulled.get() > 0 && feederWaits(job));
            assertThat(input.pulled.get()).as("read before any result was taken").isEqualTo(WINDOW);

            // the work runs, but the consumer does not take the results: nothing more is read
            assertThat(runReadyChunks(job)).isEqualTo((int) WINDOW);
            await("the feeder to wait", () -> feederWaits(job));
            assertThat(input.pulled.get()).as("read while the consumer pauses").isEqualTo(WINDOW);
            assertThat(job.hasChunk()).isFalse();

            for (long i = 0; i < 12; i++) {
                assertThat(results.next()).isEqualTo(i);
            }
            // room for two more chunks: ten more inputs
            await("the feeder to read on", () -> input.pulled.get() == WINDOW + 10 && feederWaits(job));
            assertThat(input.pulled.get()).isEqualTo(WINDOW + 10);
        }
        await("the feeder to end after close", () -> feeder(job).isEmpty());
    }

    @Test
    void theUnorderedWindowIsBoundedToo() {
        Counting input = new Counting();
        ImapJob job = job(input, false);
        try (ResultIterator<Object> results = job.start()) {
            long consumed = 0;
            for (int round = 0; round < 20; round++) {
                await("the feeder to fill the window and wait", () -> input.pulled.get() > 0 && feederWaits(job));
                assertThat(input.pulled.get() - consumed).as("read ahead in round %d", round)
                        .isLessThanOrEqualTo(WINDOW);
                for (int k = 0; k < 3; k++) {
                    long taken = consumed;
                    await("a result to take", () -> {
                        runReadyChunks(job);
                        return job.doneInputs() > taken;
                    });
                    results.next();
                    consumed++;
                }
            }
            assertThat(input.pulled.get()).as("the input follows the consumer").isGreaterThan(WINDOW);
        }
    }

    @Test
    void closingTheResultsStopsTheFeederAndTheInput() {
        Counting input = new Counting();
        ImapJob job = job(input, true);
        ResultIterator<Object> results = job.start();
        await("the feeder to fill the window", () -> input.pulled.get() == WINDOW && feederWaits(job));
        results.close();
        await("the feeder to end", () -> feeder(job).isEmpty());
        assertThat(job.isFinished()).isTrue();
        assertThat(job.nextChunk()).as("no chunk after cancel").isNull();
        assertThat(results.hasNext()).isFalse();
        assertThat(input.pulled.get()).isEqualTo(WINDOW);
    }

    @Test
    void stopReadingEndsTheIterationWithAFailureAfterTheInputsAlreadyRead() {
        Counting input = new Counting();
        ImapJob job = job(input, true);
        ResultIterator<Object> results = job.start();
        await("the feeder to fill the window", () -> input.pulled.get() == WINDOW && feederWaits(job));
        job.stopReading(); // the pool is closing
        assertThat(job.drained()).isNotDone();
        runReadyChunks(job);
        assertThat(job.drained()).as("everything read has its answer").isDone();
        for (long i = 0; i < WINDOW; i++) {
            assertThat(results.next()).isEqualTo(i);
        }
        try {
            results.next();
            throw new AssertionError("expected the cut-short failure");
        } catch (ProcessPoolException e) {
            assertThat(e).hasMessageContaining("inputs from index " + WINDOW + " on were not run");
        }
        assertThat(results.hasNext()).isFalse();
        assertThat(input.pulled.get()).isEqualTo(WINDOW);
    }
}
