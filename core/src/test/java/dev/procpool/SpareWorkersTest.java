package dev.procpool;

import static dev.procpool.FaultTestSupport.await;
import static dev.procpool.FaultTestSupport.awaitAllGone;
import static dev.procpool.FaultTestSupport.isGone;
import static dev.procpool.FaultTestSupport.kill9;
import static dev.procpool.FaultTestSupport.workerPids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.testing.NoProcessLeft;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, fresh spare workers: started JVMs kept ready for a pool's replacements and for the next pool
 * with the same JVM settings. Each test gives its pools JVM settings of their own (a unique system
 * property), so the spares other tests keep never get mixed in. Spares going with a killed caller: see
 * {@link ParentDeathTest#sparesExitWhenTheParentIsKilled}.
 */
@Timeout(120)
@NoProcessLeft
class SpareWorkersTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    /** What a task or an initializer leaves in its worker JVM; a fresh JVM has none of it. */
    static final class WorkerState {
        static int counter;
        static String initializedBy;

        private WorkerState() {}
    }

    private static String uniqueShape() {
        return "-Dprocpool.test.shape=" + UUID.randomUUID();
    }

    private static Set<Long> sparePids(ProcessPool pool) {
        return pool.stats().spares().stream().map(PoolStats.Worker::pid).collect(Collectors.toSet());
    }

    private static Set<Long> awaitSpares(ProcessPool pool, int count) {
        await(count + " spares, stats: " + pool.stats(), WAIT, () -> pool.stats().spares().size() == count);
        return sparePids(pool);
    }

    @Test
    void theNextPoolWithTheSameSettingsTakesTheSparesForItsWorkers() {
        String shape = uniqueShape();
        Set<Long> spares;
        try (ProcessPool first = ProcessPool.builder().workers(2).jvmOptions(shape).build()) {
            assertThat(first.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
            spares = awaitSpares(first, 2);
            assertThat(spares).doesNotContainAnyElementsOf(workerPids(first));
        }
        // AUTO: its trial start (which loads this class in the worker) runs in the taken spares too
        try (ProcessPool second = ProcessPool.builder().workers(2).jvmOptions(shape).mode(PoolMode.AUTO).build()) {
            assertThat(second.mode()).isEqualTo(PoolMode.PROCESSES);
            await("both workers ready", WAIT, () -> workerPids(second).size() == 2);
            assertThat(workerPids(second)).as("the second pool's workers are the first one's spares")
                    .isEqualTo(spares);
            assertThat(second.map(x -> x * 2, List.of(1, 2, 3))).containsExactly(2, 4, 6);
        }
    }

    @Test
    void sparesAreNeverSharedBetweenDifferentSettings() throws Exception {
        String shape = uniqueShape();
        Set<Long> spares;
        try (ProcessPool first = ProcessPool.builder().workers(2).jvmOptions(shape, "-Dprocpool.test.flavour=a").build()) {
            spares = awaitSpares(first, 2);
            try (ProcessPool options = ProcessPool.builder().workers(2).jvmOptions(shape, "-Dprocpool.test.flavour=b")
                         .build();
                 ProcessPool environment = ProcessPool.builder().workers(2).jvmOptions(shape, "-Dprocpool.test.flavour=a")
                         .environment("PROCPOOL_TEST_FLAVOUR", "c").build();
                 ProcessPool directory = ProcessPool.builder().workers(2).jvmOptions(shape, "-Dprocpool.test.flavour=a")
                         .workingDirectory(tmp).build()) {
                assertThat(options.map(x -> System.getProperty("procpool.test.flavour"), List.of(1, 2)))
                        .containsExactly("b", "b");
                assertThat(environment.map(x -> System.getenv("PROCPOOL_TEST_FLAVOUR"), List.of(1, 2)))
                        .containsExactly("c", "c");
                assertThat(directory.map(x -> Path.of("").toAbsolutePath().toString(), List.of(1, 2)))
                        .containsOnly(tmp.toRealPath().toString());
                for (ProcessPool other : List.of(options, environment, directory)) {
                    await("workers of " + other, WAIT, () -> workerPids(other).size() == 2);
                    assertThat(workerPids(other)).as("workers of a pool with other settings").doesNotContainAnyElementsOf(spares);
                }
            }
            assertThat(sparePids(first)).as("the first pool's spares, untouched").isEqualTo(spares);
        }
    }

    @Test
    void aSpareCarriesNoStateOfAnotherPoolAndRunsOnlyTheInitializerOfThePoolThatTakesIt() {
        String shape = uniqueShape();
        Set<Long> spares;
        try (ProcessPool first = ProcessPool.builder().workers(2).jvmOptions(shape)
                .initializer(() -> WorkerState.initializedBy = "first").build()) {
            assertThat(first.map(x -> {
                WorkerState.counter += x;
                return WorkerState.initializedBy;
            }, List.of(1, 2, 3, 4), 1)).containsOnly("first");
            spares = awaitSpares(first, 2);
        }
        try (ProcessPool second = ProcessPool.builder().workers(2).jvmOptions(shape)
                .initializer(() -> WorkerState.initializedBy = "second").build()) {
            assertThat(second.map(x -> WorkerState.counter + " " + WorkerState.initializedBy, List.of(1, 2, 3, 4), 1))
                    .containsOnly("0 second");
            // a taken spare may serve the whole map before the other one's READY is read: wait for both
            await("both spares ready in the second pool", WAIT, () -> workerPids(second).size() == 2);
            assertThat(workerPids(second)).as("it did run on the spares").isEqualTo(spares);
        }
    }

    @Test
    void sparesGoAfterTheirIdleTime() {
        String shape = uniqueShape();
        Set<Long> spares;
        try (ProcessPool pool = ProcessPool.builder().workers(2).jvmOptions(shape)
                .spareIdleTime(Duration.ofMillis(300)).build()) {
            spares = awaitSpares(pool, 2);
        }
        assertThat(spares).allSatisfy(pid -> assertThat(isGone(pid)).as("spare %d right after close", pid).isFalse());
        awaitAllGone("spares after their idle time", spares, Duration.ofSeconds(10));
    }

    @Test
    void aSpareThatDiesWhileWaitingIsReplaced() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).spareWorkers(2).jvmOptions(uniqueShape()).build()) {
            Set<Long> spares = awaitSpares(pool, 2);
            long victim = spares.iterator().next();
            kill9(victim);
            await("a new spare in place of " + victim + ", stats: " + pool.stats(), WAIT, () -> {
                Set<Long> now = sparePids(pool);
                return now.size() == 2 && !now.contains(victim);
            });
            assertThat(workerPids(pool)).doesNotContain(victim);
            assertThat(pool.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
        }
    }

    @Test
    void aCrashedWorkerIsReplacedByASpareAndTheCallSeesTheCrashAsUsual() {
        try (ProcessPool pool = ProcessPool.builder().workers(2).jvmOptions(uniqueShape()).build()) {
            Set<Long> spares = awaitSpares(pool, 2);
            Set<Long> before = workerPids(pool);
            Throwable failure = catchThrowable(() -> pool.map(x -> {
                if (x == 3) {
                    Runtime.getRuntime().halt(3);
                }
                return x;
            }, List.of(0, 1, 2, 3, 4, 5), 1));
            assertThat(failure).isInstanceOf(WorkerCrashedException.class);
            assertThat(((WorkerCrashedException) failure).inputIndex()).isEqualTo(3);
            assertThat(((WorkerCrashedException) failure).exitCode()).isEqualTo(3);
            await("two workers again, stats: " + pool.stats(), WAIT, () -> workerPids(pool).size() == 2);
            Set<Long> replacements = new HashSet<>(workerPids(pool));
            replacements.removeAll(before);
            assertThat(replacements).as("the replacement").hasSize(1);
            assertThat(spares).as("the replacement was a spare").containsAll(replacements);
            assertThat(pool.stats().workerCrashes()).isEqualTo(1);
            assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
        }
    }

    @Test
    void aPoolWithoutSparesTakesNoneEvenWhereThereAreSome() {
        String shape = uniqueShape();
        try (ProcessPool withSpares = ProcessPool.builder().workers(1).spareWorkers(2).jvmOptions(shape).build()) {
            Set<Long> spares = awaitSpares(withSpares, 2);
            try (ProcessPool without = ProcessPool.builder().workers(2).spareWorkers(0).jvmOptions(shape).build()) {
                assertThat(without.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
                await("both workers ready", WAIT, () -> workerPids(without).size() == 2);
                assertThat(workerPids(without)).doesNotContainAnyElementsOf(spares);
                assertThat(without.stats().spares()).isEmpty();
            }
            assertThat(sparePids(withSpares)).isEqualTo(spares);
        }
    }
}
