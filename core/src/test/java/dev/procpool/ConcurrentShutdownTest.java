package dev.procpool;

import static dev.procpool.FaultTestSupport.assertNoProcessLeft;
import static dev.procpool.FaultTestSupport.await;
import static dev.procpool.FaultTestSupport.awaitWorkers;
import static dev.procpool.FaultTestSupport.countLines;
import static dev.procpool.FaultTestSupport.liveDescendants;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import dev.procpool.testing.NoProcessLeft;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5: {@code close()} and {@code terminate()} with work in flight, called concurrently from several
 * threads, never hang and leave no process.
 */
@Timeout(60)
@NoProcessLeft
class ConcurrentShutdownTest {
    @TempDir
    Path tmp;

    /** Starts {@code actions} on their own threads at the same instant; waits for all, bounded. */
    private static void race(Duration bound, List<Runnable> actions) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < actions.size(); i++) {
            Runnable action = actions.get(i);
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    action.run();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "shutdown-racer-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        long deadline = System.nanoTime() + bound.toNanos();
        go.countDown();
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        List<String> stuck = new ArrayList<>();
        for (Thread t : threads) {
            if (t.isAlive()) {
                StringBuilder trace = new StringBuilder(t.getName());
                for (StackTraceElement e : t.getStackTrace()) {
                    trace.append("\n    at ").append(e);
                }
                stuck.add(trace.toString());
            }
        }
        assertThat(stuck).as("threads still inside close()/terminate() after " + bound).isEmpty();
        assertThat(failure.get()).as("an exception from close()/terminate()").isNull();
    }

    static int slow(int x) {
        FailureContractTest.pause(150);
        return x * 2;
    }

    @Test
    void concurrentClosesFinishTheWorkInFlight() throws Exception {
        List<Integer> inputs = FailureContractTest.range(0, 16);
        ProcessPool pool = ProcessPool.builder().workers(2).build();
        try {
            awaitWorkers(pool, 2, Set.of(), Duration.ofSeconds(30));
            CompletableFuture<List<Integer>> work = pool.mapAsync(x -> slow(x), inputs, 2);
            race(Duration.ofSeconds(20), List.of(pool::close, pool::close, pool::close, pool::close));
            assertThat(work).as("close() finishes queued work").isCompleted();
            assertThat(work.get()).isEqualTo(FailureContractTest.times(inputs, 2));
            assertThat(catchThrowable(() -> pool.map(x -> x, List.of(1)))).isInstanceOf(IllegalStateException.class);
        } finally {
            pool.terminate();
        }
    }

    @Test
    void concurrentTerminatesAndClosesWithEndlessTasksNeverHang() throws Exception {
        String started = tmp.resolve("started").toString();
        ProcessPool pool = ProcessPool.builder().workers(2).build();
        try {
            CompletableFuture<List<Integer>> endless = pool.mapAsync(x -> {
                FaultTestSupport.append(started, x + "\n");
                FaultTestSupport.sleepForever();
                return x;
            }, FailureContractTest.range(0, 8), 1);
            await("both workers busy", Duration.ofSeconds(30), () -> countLines(Path.of(started)) >= 2);
            // close() alone would wait for the endless tasks; the terminate()s end them.
            race(Duration.ofSeconds(15), List.of(pool::terminate, pool::close, pool::terminate, pool::close,
                    pool::terminate));
            assertThat(endless).isCompletedExceptionally();
            Throwable failure = catchThrowable(endless::get);
            assertThat(failure).isInstanceOf(ExecutionException.class);
            assertThat(failure.getCause()).isInstanceOf(ProcessPoolException.class);
            assertThat(catchThrowable(() -> pool.map(x -> x, List.of(1)))).isInstanceOf(IllegalStateException.class);
        } finally {
            pool.terminate();
        }
    }

    @Test
    void terminateWhileCloseWaitsForWorkEndsBoth() throws Exception {
        String started = tmp.resolve("started").toString();
        ProcessPool pool = ProcessPool.builder().workers(2).build();
        try {
            CompletableFuture<List<Integer>> endless = pool.mapAsync(x -> {
                FaultTestSupport.append(started, x + "\n");
                FaultTestSupport.sleepForever();
                return x;
            }, FailureContractTest.range(0, 4), 1);
            await("both workers busy", Duration.ofSeconds(30), () -> countLines(Path.of(started)) >= 2);
            Thread closer = new Thread(pool::close, "blocked-closer");
            closer.setDaemon(true);
            closer.start();
            await("close() to be waiting", Duration.ofSeconds(5),
                    () -> closer.getState() == Thread.State.WAITING || closer.getState() == Thread.State.TIMED_WAITING);
            long t0 = System.nanoTime();
            pool.terminate();
            closer.join(10_000);
            assertThat(closer.isAlive()).as("close() returned after terminate()").isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
            assertThat(endless).isCompletedExceptionally();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void closeWhileWorkersCrashAndRestartNeverHangs() throws Exception {
        ProcessPool pool = ProcessPool.builder().workers(2).retries(1).build();
        try {
            awaitWorkers(pool, 2, Set.of(), Duration.ofSeconds(30));
            CompletableFuture<List<Integer>> crashing = pool.mapAsync(x -> {
                if (x % 3 == 0) {
                    Runtime.getRuntime().halt(11);
                }
                return x;
            }, FailureContractTest.range(0, 12), 1);
            race(Duration.ofSeconds(30), List.of(pool::close, pool::close));
            assertThat(crashing).isDone();
            assertThat(catchThrowable(crashing::get)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(WorkerCrashedException.class);
        } finally {
            pool.terminate();
        }
    }

    @Test
    void terminateAndCloseRightAfterBuildWhileWorkersStart() throws Exception {
        Set<Long> baseline = liveDescendants();
        for (int round = 0; round < 3; round++) {
            ProcessPool pool = ProcessPool.builder().workers(2).build();
            try {
                CompletableFuture<List<Integer>> work = pool.mapAsync(x -> x, List.of(1, 2, 3));
                race(Duration.ofSeconds(15), List.of(pool::terminate, pool::close, pool::terminate));
                assertThat(work).isDone();
            } finally {
                pool.terminate();
            }
            assertNoProcessLeft(baseline);
        }
    }
}
