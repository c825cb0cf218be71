package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.NoProcessLeft;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code pool.asExecutorService()} against the {@link ExecutorService} contract as the JDK documents it,
 * point by point, in both modes (the JSR-166 TCK's executor tests are the yardstick; these are our own).
 */
@NoProcessLeft
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ExecutorServiceConformanceTest {
    /** Thread mode only: lets a task that ignores interrupts finish. */
    private static final AtomicBoolean RELEASE = new AtomicBoolean();

    @TempDir
    Path dir;

    @AfterEach
    void releaseStubbornTasks() {
        RELEASE.set(true);
    }

    private static ExecutorService executor(PoolMode mode, int workers) {
        return PoolTestSupport.pool(mode, workers).asExecutorService();
    }

    static int divide(int a, int b) {
        return a / b;
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void theTasksOwnExceptionIsTheCause(PoolMode mode) throws Exception {
        ExecutorService executor = executor(mode, 2);
        try {
            SerializableCallable<Integer> failing = () -> divide(1, 0);
            assertThatThrownBy(() -> executor.submit(failing).get()).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(ArithmeticException.class).hasMessageContaining("/ by zero");
            assertThatThrownBy(() -> executor.submit(failing).get(30, TimeUnit.SECONDS))
                    .cause().isInstanceOf(ArithmeticException.class);

            List<Future<Integer>> all = executor.invokeAll(List.of(failing, () -> 7));
            assertThatThrownBy(() -> all.get(0).get()).cause().isInstanceOf(ArithmeticException.class);
            assertThat(all.get(1).get()).isEqualTo(7);

            assertThatThrownBy(() -> executor.invokeAny(List.of(failing, failing)))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(ArithmeticException.class);
            SerializableRunnable npe = () -> {
                throw new NullPointerException("from the task");
            };
            assertThatThrownBy(() -> executor.submit(npe).get()).cause()
                    .isInstanceOf(NullPointerException.class).hasMessage("from the task");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aCrashedWorkerIsItsOwnCause() {
        ExecutorService executor = executor(PoolMode.PROCESSES, 1);
        try {
            SerializableCallable<Integer> crash = () -> {
                Runtime.getRuntime().halt(3);
                return 0;
            };
            assertThatThrownBy(() -> executor.submit(crash).get()).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(WorkerCrashedException.class);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aTimedOutTaskIsItsOwnCause() {
        ProcessPool pool = ProcessPool.builder().workers(1).taskTimeout(Duration.ofMillis(300)).build();
        ExecutorService executor = pool.asExecutorService();
        try {
            SerializableCallable<String> slow = () -> {
                Thread.sleep(60_000);
                return "late";
            };
            assertThatThrownBy(() -> executor.submit(slow).get()).cause().isInstanceOf(TaskTimeoutException.class);
        } finally {
            executor.shutdownNow();
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void shutdownNowReturnsTheTasksThatNeverStartedAndStopsTheRunningOne(PoolMode mode) throws Exception {
        ExecutorService executor = executor(mode, 1);
        String marker = dir.resolve("running").toString();
        Future<String> running = executor.submit((SerializableCallable<String>) () -> AsyncAndExecutorTest.markAndPark(marker));
        FaultTestSupport.await("the first task runs", Duration.ofSeconds(30), () -> Files.exists(Path.of(marker)));
        List<Future<Integer>> queued = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int value = i;
            queued.add(executor.submit((SerializableCallable<Integer>) () -> value));
        }
        SerializableRunnable executed = () -> { };
        executor.execute(executed);

        List<Runnable> neverStarted = executor.shutdownNow();

        // A worker JVM keeps one more chunk in its pipe while it computes: that task counts as started.
        int pipelined = mode == PoolMode.PROCESSES ? 1 : 0;
        assertThat(neverStarted).hasSizeBetween(4 - pipelined, 4);
        assertThat(neverStarted.get(neverStarted.size() - 1)).isSameAs(executed);
        for (Future<Integer> future : queued) {
            if (neverStarted.contains(future)) {
                assertThat(future.isDone()).as("handed back, as ThreadPoolExecutor does").isFalse();
            } else {
                assertThat(queued.indexOf(future)).isLessThan(pipelined);
                assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class);
            }
        }
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(running.isDone()).isTrue();
        assertThatThrownBy(running::get).isInstanceOf(ExecutionException.class);

        // what was handed back can still run, here
        ((RunnableFuture<?>) neverStarted.get(neverStarted.size() - 2)).run();
        assertThat(queued.get(2).get()).isEqualTo(2);
    }

    @Test
    void threadModeIsTerminatedOnlyWhenTheLastTaskHasEnded() throws Exception {
        RELEASE.set(false);
        ExecutorService executor = executor(PoolMode.THREADS, 1);
        AtomicBoolean started = new AtomicBoolean();
        Future<?> stubborn = executor.submit((SerializableRunnable) () -> {
            started.set(true);
            while (!RELEASE.get()) {
                Thread.onSpinWait(); // ignores interrupts
            }
        });
        FaultTestSupport.await("the task runs", Duration.ofSeconds(30), started::get);

        executor.shutdownNow();

        assertThat(executor.isShutdown()).isTrue();
        assertThat(executor.awaitTermination(200, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(executor.isTerminated()).isFalse();
        RELEASE.set(true);
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(stubborn.isDone()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void timedInvokeAnyAndInvokeAllGiveUpAndCancelWhatIsLeft(PoolMode mode) throws Exception {
        ProcessPool pool = PoolTestSupport.pool(mode, 2);
        ExecutorService executor = pool.asExecutorService();
        try {
            if (mode == PoolMode.PROCESSES) { // the quick task must not wait for a JVM to start
                FaultTestSupport.awaitWorkers(pool, 2, java.util.Set.of(), Duration.ofSeconds(30));
            }
            SerializableCallable<String> slow = () -> {
                Thread.sleep(60_000);
                return "slow";
            };
            SerializableCallable<String> quick = () -> "quick";
            long start = System.nanoTime();
            List<Future<String>> all = executor.invokeAll(List.of(quick, slow), 2, TimeUnit.SECONDS);
            assertThat(all).allMatch(Future::isDone);
            assertThat(all.get(0).get()).isEqualTo("quick");
            assertThat(all.get(1).isCancelled()).isTrue();
            assertThatThrownBy(() -> executor.invokeAny(List.of(slow, slow), 300, TimeUnit.MILLISECONDS))
                    .isInstanceOf(TimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
            // the cancelled tasks' workers are free again (or replaced)
            assertThat(executor.submit(quick).get(30, TimeUnit.SECONDS)).isEqualTo("quick");
        } finally {
            executor.shutdownNow();
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void nullsAndShutDownExecutorsAreRejectedAsTheJdkDoes(PoolMode mode) throws Exception {
        ExecutorService executor = executor(mode, 1);
        assertThatThrownBy(() -> executor.submit((Callable<?>) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.submit((Runnable) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.execute(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAll(null)).isInstanceOf(NullPointerException.class);
        List<Callable<Integer>> withNull = new ArrayList<>();
        withNull.add((SerializableCallable<Integer>) () -> 1);
        withNull.add(null);
        assertThatThrownBy(() -> executor.invokeAll(withNull)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> executor.invokeAny(List.of())).isInstanceOf(IllegalArgumentException.class);

        executor.shutdown();
        assertThatThrownBy(() -> executor.execute((SerializableRunnable) () -> { }))
                .isInstanceOf(RejectedExecutionException.class);
        assertThatThrownBy(() -> executor.submit((SerializableCallable<Integer>) () -> 1))
                .isInstanceOf(RejectedExecutionException.class);
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void completableFutureAsyncOnWorkerJvmsIsRejectedAtOnceSayingWhatToUse() {
        ExecutorService executor = executor(PoolMode.PROCESSES, 1);
        try {
            assertThatThrownBy(() -> CompletableFuture.supplyAsync(() -> 42, executor))
                    .isInstanceOf(RejectedExecutionException.class).hasMessageContaining("pool.submit");
            assertThatThrownBy(() -> CompletableFuture.runAsync(() -> { }, executor))
                    .isInstanceOf(RejectedExecutionException.class);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void completableFutureAsyncRunsOnThreads() throws Exception {
        ExecutorService executor = executor(PoolMode.THREADS, 1);
        try {
            assertThat(CompletableFuture.supplyAsync(() -> 42, executor).get(30, TimeUnit.SECONDS)).isEqualTo(42);
        } finally {
            executor.shutdownNow();
        }
    }
}
