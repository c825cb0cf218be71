package dev.procpool;

import static dev.procpool.PoolTestSupport.assertNoWorkersLeft;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.NoProcessLeft;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@NoProcessLeft
class LifecycleTest {

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void closeFinishesQueuedWorkAndLeavesNoProcess(PoolMode mode) throws Exception {
        ProcessPool pool = PoolTestSupport.pool(mode, 2);
        var pending = pool.mapAsync((Integer i) -> {
            PoolTestSupport.pause(2);
            return i * 2;
        }, IntStream.range(0, 200).boxed().collect(Collectors.toList()), 5);

        pool.close();

        assertThat(pending).isCompleted();
        assertThat(pending.get()).hasSize(200).endsWith(398);
        assertNoWorkersLeft();
        assertThatThrownBy(() -> pool.map((Integer i) -> i, List.of(1))).isInstanceOf(IllegalStateException.class);
        pool.close(); // idempotent
        pool.terminate();
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void terminateFailsPendingWorkAndKillsWorkers(PoolMode mode) throws Exception {
        ProcessPool pool = PoolTestSupport.pool(mode, 2);
        var pending = pool.mapAsync((Integer i) -> {
            PoolTestSupport.pause(60_000);
            return i;
        }, List.of(1, 2, 3, 4));

        pool.terminate();

        assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(ProcessPoolException.class)
                .hasMessageContaining("terminated");
        if (mode == PoolMode.PROCESSES) {
            assertNoWorkersLeft();
        }
        assertThatThrownBy(() -> pool.apply((Integer i) -> i, 1)).isInstanceOf(IllegalStateException.class);
        pool.terminate(); // idempotent
        pool.close();
    }

    @Test
    void autoModeUsesProcessesWhenTheyStart() throws Exception {
        try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.AUTO).build()) {
            assertThat(pool.mode()).isEqualTo(PoolMode.PROCESSES);
            Long pid = pool.apply((Integer i) -> ProcessHandle.current().pid(), 1);
            assertThat(pid).isNotEqualTo(ProcessHandle.current().pid());
        }
    }

    @Test
    void autoModeFallsBackToThreadsWhenWorkersCannotStart() throws Exception {
        try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.AUTO)
                .jvmOptions("-XX:+ThisOptionDoesNotExist").build()) {
            assertThat(pool.mode()).isEqualTo(PoolMode.THREADS);
            assertThat(pool.map((Integer i) -> i + 1, List.of(1, 2))).containsExactly(2, 3);
        }
    }

    @Test
    void processModeWithWorkersThatCannotStartFailsTheFirstCallWithTheReason() throws Exception {
        try (ProcessPool pool = ProcessPool.builder().workers(2).jvmOptions("-XX:+ThisOptionDoesNotExist").build()) {
            assertThatThrownBy(() -> pool.map((Integer i) -> i, List.of(1, 2)))
                    .isInstanceOf(ProcessPoolException.class)
                    .hasMessageContaining("ThisOptionDoesNotExist");
        }
    }

    @Test
    void aHangingInitializerBreaksThePoolAfterTheStartTimeoutInsteadOfLeavingCallsWaiting() throws Exception {
        long started = System.nanoTime();
        try (ProcessPool pool = ProcessPool.builder().workers(1).startTimeout(java.time.Duration.ofSeconds(3))
                .initializer(() -> PoolTestSupport.pause(120_000)).build()) {
            assertThatThrownBy(() -> pool.map((Integer i) -> i, List.of(1)))
                    .isInstanceOf(ProcessPoolException.class)
                    .hasMessageContaining("did not become ready within 3 s");
        }
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)).isLessThan(20);
    }

    static final java.util.Set<String> INITIALIZED_THREADS = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Test
    void threadModeRunsTheInitializerInEveryPoolThread() {
        try (ProcessPool pool = ProcessPool.builder().workers(2).mode(PoolMode.THREADS)
                .initializer(() -> INITIALIZED_THREADS.add(Thread.currentThread().getName())).build()) {
            List<Boolean> seen = pool.map((Integer i) -> {
                PoolTestSupport.pause(2);
                return INITIALIZED_THREADS.contains(Thread.currentThread().getName());
            }, java.util.stream.IntStream.range(0, 50).boxed().collect(java.util.stream.Collectors.toList()), 1);
            assertThat(seen).hasSize(50).containsOnly(true);
        }
    }

    @Test
    void threadModeWithAFailingInitializerFailsCallsWithItsCause() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.THREADS)
                .initializer(() -> {
                    throw new IllegalStateException("no licence");
                }).build()) {
            assertThatThrownBy(() -> pool.map((Integer i) -> i, List.of(1)))
                    .isInstanceOf(ProcessPoolException.class)
                    .hasMessageContaining("no licence")
                    .hasRootCauseInstanceOf(IllegalStateException.class);
        }
    }

    /** Both tasks must run at once: a worker that took both while the other was starting would deadlock. */
    static long meetAtBarrier(String directory, int parties) throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of(directory);
        long pid = ProcessHandle.current().pid();
        java.nio.file.Files.createFile(dir.resolve(Long.toString(pid)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (var entries = java.nio.file.Files.list(dir)) {
                if (entries.count() >= parties) {
                    return pid;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the other party never came");
            }
            Thread.sleep(5);
        }
    }

    @Test
    void tasksThatWaitForEachOtherRightAfterBuildRunOnDifferentWorkers(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) {
        String barrier = dir.toString();
        try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
            List<java.util.concurrent.CompletableFuture<Long>> parties = List.of(
                    pool.submit(() -> meetAtBarrier(barrier, 2)), pool.submit(() -> meetAtBarrier(barrier, 2)));
            assertThat(parties.stream().map(java.util.concurrent.CompletableFuture::join).distinct()).hasSize(2);
        }
    }
}
