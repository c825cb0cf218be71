package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.NoProcessLeft;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@NoProcessLeft
class AsyncAndExecutorTest {
    @TempDir
    Path dir;

    static void awaitFile(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(file + " never appeared");
            }
            Thread.sleep(5);
        }
    }

    static String markAndPark(String marker) throws Exception {
        Path tmp = Path.of(marker + ".tmp");
        Files.writeString(tmp, Long.toString(ProcessHandle.current().pid()));
        Files.move(tmp, Path.of(marker), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Thread.sleep(120_000);
        return "not cancelled";
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void cancellingARunningTaskStopsItAndThePoolGoesOn(PoolMode mode) throws Exception {
        try (ProcessPool pool = PoolTestSupport.pool(mode, 1)) {
            String marker = dir.resolve("running").toString();
            CompletableFuture<String> running = pool.submit(() -> markAndPark(marker));
            awaitFile(Path.of(marker));
            long pid = Long.parseLong(Files.readString(Path.of(marker)));

            assertThat(running.cancel(true)).isTrue();

            assertThat(running.isCancelled()).isTrue();
            assertThatThrownBy(running::get).isInstanceOf(CancellationException.class);
            // the single worker is free again (process mode: a replacement started)
            Long served = pool.apply((Integer i) -> ProcessHandle.current().pid(), 1);
            if (mode == PoolMode.PROCESSES) {
                assertThat(served).isNotEqualTo(pid);
                assertThat(PoolTestSupport.isGone(pid)).isTrue();
                assertThat(pool.stats().workerCrashes()).isZero();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void getWithATimeoutTimesOutAsTheJdkPromises(PoolMode mode) throws Exception {
        try (ProcessPool pool = PoolTestSupport.pool(mode, 1)) {
            CompletableFuture<Integer> slow = pool.submit(() -> {
                Thread.sleep(1_000);
                return 1;
            });
            assertThatThrownBy(() -> slow.get(50, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(slow.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void submitFailuresArriveAsExecutionExceptions(PoolMode mode) throws Exception {
        try (ProcessPool pool = PoolTestSupport.pool(mode, 1)) {
            CompletableFuture<Object> failing = pool.submit(() -> {
                throw new java.io.IOException("disk on fire");
            });
            assertThatThrownBy(failing::get).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(TaskFailedException.class)
                    .cause().isInstanceOf(java.io.IOException.class).hasMessage("disk on fire");
            CompletableFuture<Void> ran = pool.submit(() -> {
                System.setProperty("x", "y");
            });
            assertThat(ran.get(30, TimeUnit.SECONDS)).isNull();
        }
    }

    @Test
    void initializerRunsInEveryWorkerAndWorkersAreRecycledAfterTheirBudget() throws InterruptedException {
        List<Integer> inputs = IntStream.range(0, 40).boxed().collect(Collectors.toList());
        try (ProcessPool pool = ProcessPool.builder().workers(2).maxTasksPerWorker(5)
                .initializer(() -> System.setProperty("procpool.test.init", "done:" + ProcessHandle.current().pid()))
                .build()) {
            List<String> seen = pool.map((Integer i) -> ProcessHandle.current().pid() + "|"
                    + System.getProperty("procpool.test.init"), inputs, 1);

            assertThat(seen).hasSize(40).allSatisfy(s -> {
                String[] parts = s.split("\\|");
                assertThat(parts[1]).isEqualTo("done:" + parts[0]);
            });
            Map<String, Long> tasksPerPid = seen.stream().map(s -> s.split("\\|")[0])
                    .collect(Collectors.groupingBy(p -> p, Collectors.counting()));
            assertThat(tasksPerPid.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(5));
            assertThat(tasksPerPid).hasSizeGreaterThanOrEqualTo(8);
            // every worker that used up its budget exits and is counted; exits are noticed asynchronously
            long usedUp = tasksPerPid.values().stream().filter(n -> n == 5).count();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (pool.stats().workersRecycled() < usedUp && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(pool.stats().workersRecycled()).isEqualTo(usedUp);
            // nothing lost or duplicated across recycling
            assertThat(pool.map((Integer i) -> i, inputs, 3)).isEqualTo(inputs);
        }
    }

    @Test
    void jvmOptionsEnvironmentAndWorkingDirectoryReachTheWorkers() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).jvmOptions("-Xmx77m", "-Dprocpool.flag=on")
                .environment("PROCPOOL_TEST_ENV", "env-ok").workingDirectory(dir).build()) {
            String seen = pool.apply((Integer i) -> Runtime.getRuntime().maxMemory() / (1024 * 1024) + " "
                    + System.getProperty("procpool.flag") + " " + System.getenv("PROCPOOL_TEST_ENV") + " "
                    + Path.of("").toAbsolutePath(), 0);
            String[] parts = seen.split(" ");
            assertThat(Long.parseLong(parts[0])).isBetween(60L, 80L);
            assertThat(parts[1]).isEqualTo("on");
            assertThat(parts[2]).isEqualTo("env-ok");
            assertThat(parts[3]).isEqualTo(dir.toAbsolutePath().toString());
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void asAnExecutorServiceItHonoursTheContract(PoolMode mode) throws Exception {
        ProcessPool pool = PoolTestSupport.pool(mode, 2);
        ExecutorService executor = pool.asExecutorService();
        List<Callable<Integer>> tasks = List.of((SerializableCallable<Integer>) () -> 1,
                (SerializableCallable<Integer>) () -> 2, (SerializableCallable<Integer>) () -> 3);

        List<Future<Integer>> all = executor.invokeAll(tasks);
        assertThat(all).allSatisfy(f -> assertThat(f.isDone()).isTrue());
        assertThat(all.stream().map(f -> {
            try {
                return f.get();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        })).containsExactly(1, 2, 3);
        assertThat(executor.invokeAny(tasks)).isIn(1, 2, 3);
        assertThat(executor.submit((SerializableRunnable) () -> { }, "done").get()).isEqualTo("done");
        if (mode == PoolMode.PROCESSES) {
            Callable<Integer> notSerializable = () -> 4;
            assertThatThrownBy(() -> executor.submit(notSerializable)).isInstanceOf(RejectedExecutionException.class);
        }

        Future<Integer> queued = executor.submit((SerializableCallable<Integer>) () -> {
            Thread.sleep(200);
            return 5;
        });
        executor.shutdown();
        assertThat(executor.isShutdown()).isTrue();
        assertThatThrownBy(() -> executor.submit((SerializableCallable<Integer>) () -> 6))
                .isInstanceOf(RejectedExecutionException.class);
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(queued.get()).isEqualTo(5);
    }

    @Test
    void starmapPairsInBothModesAgree() {
        List<Map.Entry<String, Integer>> pairs = List.of(Map.entry("a", 2), Map.entry("b", 3));
        for (PoolMode mode : List.of(PoolMode.PROCESSES, PoolMode.THREADS)) {
            try (ProcessPool pool = PoolTestSupport.pool(mode, 1)) {
                assertThat(pool.starmap(String::repeat, pairs)).containsExactly("aa", "bbb");
            }
        }
    }
}
