package dev.procpool;

import static dev.procpool.FaultTestSupport.await;
import static dev.procpool.FaultTestSupport.awaitWorkers;
import static dev.procpool.FaultTestSupport.countLines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import dev.procpool.testing.NoProcessLeft;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5: an interrupted caller. The documented behaviour (ProcessPool's javadoc): the call is
 * cancelled, the caller gets a {@link ProcessPoolException} promptly and finds its interrupt flag set;
 * the pool stays usable.
 */
@Timeout(60)
@NoProcessLeft
class InterruptedCallerTest {
    @TempDir
    Path tmp;

    /** Runs in a worker: records that the task started, then takes {@code millis}. */
    static int recordAndSleep(int x, String startedFile, long millis) {
        FaultTestSupport.append(startedFile, x + "\n");
        FailureContractTest.pause(millis);
        return x;
    }

    @Test
    void anInterruptedMapThrowsPromptlyKeepsTheFlagAndCancelsPendingWork() throws Exception {
        String started = tmp.resolve("started").toString();
        List<Integer> inputs = FailureContractTest.range(0, 20);
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            awaitWorkers(pool, 1, Set.of(), Duration.ofSeconds(30));
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicBoolean flagAfter = new AtomicBoolean();
            AtomicLong returnedAt = new AtomicLong();
            Thread caller = new Thread(() -> {
                try {
                    pool.map(x -> recordAndSleep(x, started, 400), inputs, 1);
                } catch (Throwable t) {
                    thrown.set(t);
                }
                returnedAt.set(System.nanoTime());
                flagAfter.set(Thread.currentThread().isInterrupted());
            }, "interrupted-caller");
            caller.start();
            await("the first task to start", Duration.ofSeconds(20), () -> countLines(Path.of(started)) >= 1);
            long interruptedAt = System.nanoTime();
            caller.interrupt();
            caller.join(5_000);
            assertThat(caller.isAlive()).as("the caller returned").isFalse();
            assertThat(TimeUnit.NANOSECONDS.toMillis(returnedAt.get() - interruptedAt))
                    .as("ms from interrupt to return").isLessThan(500);
            assertThat(thrown.get()).isInstanceOf(ProcessPoolException.class);
            assertThat(flagAfter.get()).as("interrupt flag set after the call").isTrue();

            // Pending work is cancelled: the pool serves a new call after at most the chunks already
            // sent (2 in flight), and the rest of the 20 inputs never run.
            long again = System.nanoTime();
            assertThat(pool.map(x -> x * 2, List.of(1, 2, 3))).containsExactly(2, 4, 6);
            assertThat(Duration.ofNanos(System.nanoTime() - again)).isLessThan(Duration.ofSeconds(3));
            int ran = countLines(Path.of(started));
            assertThat(ran).as("tasks of the cancelled call that ran").isLessThanOrEqualTo(3);
            FailureContractTest.pause(500);
            assertThat(countLines(Path.of(started))).as("no more tasks start later").isEqualTo(ran);
        }
    }

    @Test
    void aCallerInterruptedBeforeTheCallThrowsAtOnceAndKeepsTheFlag() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            awaitWorkers(pool, 1, Set.of(), Duration.ofSeconds(30));
            Thread.currentThread().interrupt();
            long start = System.nanoTime();
            Throwable thrown;
            boolean flag;
            try {
                thrown = catchThrowable(() -> pool.map(x -> x, List.of(1, 2, 3)));
            } finally {
                flag = Thread.interrupted(); // clear it for the rest of the test
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
            assertThat(thrown).isInstanceOf(ProcessPoolException.class);
            assertThat(flag).as("interrupt flag still set").isTrue();
            assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
        }
    }

    @Test
    void anInterruptedCloseTerminatesAndKeepsTheFlag() throws Exception {
        String started = tmp.resolve("started").toString();
        ProcessPool pool = ProcessPool.builder().workers(1).build();
        try {
            CompletableFuture<List<Integer>> forever = pool.mapAsync(x -> {
                FaultTestSupport.append(started, "x\n");
                FaultTestSupport.sleepForever();
                return x;
            }, List.of(1));
            await("the task to start", Duration.ofSeconds(20), () -> countLines(Path.of(started)) >= 1);
            AtomicBoolean flagAfter = new AtomicBoolean();
            AtomicLong returnedAt = new AtomicLong();
            Thread closer = new Thread(() -> {
                pool.close(); // waits for the endless task: only the interrupt ends it
                returnedAt.set(System.nanoTime());
                flagAfter.set(Thread.currentThread().isInterrupted());
            }, "interrupted-closer");
            closer.start();
            FailureContractTest.pause(200);
            long interruptedAt = System.nanoTime();
            closer.interrupt();
            closer.join(10_000);
            assertThat(closer.isAlive()).as("close() returned").isFalse();
            assertThat(TimeUnit.NANOSECONDS.toMillis(returnedAt.get() - interruptedAt))
                    .as("ms from interrupt to return").isLessThan(6_000);
            assertThat(flagAfter.get()).isTrue();
            assertThat(forever).isCompletedExceptionally();
            assertThat(catchThrowable(() -> pool.map(x -> x, List.of(1)))).isInstanceOf(IllegalStateException.class);
        } finally {
            pool.terminate();
        }
    }

    /**
     * {@code cancel(true)} on a running task kills its worker (ProcessPool#submit): the other call's
     * chunk, in flight behind it on the same and only worker, must be re-queued and succeed.
     */
    @Test
    void cancellingARunningTaskSparesTheOtherWorkOfItsWorker() throws Exception {
        String started = tmp.resolve("started").toString();
        List<Integer> others = FailureContractTest.range(0, 6);
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Set<Long> first = awaitWorkers(pool, 1, Set.of(), Duration.ofSeconds(30));
            CompletableFuture<Integer> endless = pool.submit(() -> {
                FaultTestSupport.append(started, "x\n");
                FaultTestSupport.sleepForever();
                return 1;
            });
            CompletableFuture<List<Integer>> other = pool.mapAsync(x -> FailureContractTest.slowTimesTen(x), others, 3);
            await("the endless task to start", Duration.ofSeconds(20), () -> countLines(Path.of(started)) >= 1);
            assertThat(endless.cancel(true)).isTrue();
            assertThat(other.get(20, TimeUnit.SECONDS)).isEqualTo(FailureContractTest.times(others, 10));
            Set<Long> now = awaitWorkers(pool, 1, first, Duration.ofSeconds(15));
            FaultTestSupport.awaitAllGone("the worker killed to cancel", first, Duration.ofSeconds(5));
            assertThat(now).doesNotContainAnyElementsOf(first);
            assertThat(pool.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
        }
    }
}
