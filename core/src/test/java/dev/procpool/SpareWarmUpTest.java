package dev.procpool;

import static dev.procpool.FaultTestSupport.await;
import static dev.procpool.FaultTestSupport.workerPids;
import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.testing.NoProcessLeft;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, taking a spare fast: a spare has the code of a pool's first frames loaded before it boots, and a
 * worker that the pool knows is ending is replaced before it has exited. Timings are the benchmark's
 * ({@code spares} section); these check the mechanisms, which no timing shows reliably on a busy machine.
 */
@Timeout(120)
@NoProcessLeft
class SpareWarmUpTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** What a taken spare runs for the first time on CONFIG → READY and its first chunk, unless warmed up. */
    private static final List<String> FIRST_FRAME_CODE = List.of("dev.procpool.internal.worker.ConfigMessage",
            "dev.procpool.internal.worker.ReadyMessage", "dev.procpool.internal.worker.FunctionMessage",
            "dev.procpool.internal.worker.TasksMessage", "dev.procpool.internal.worker.TaskInvoker",
            "dev.procpool.internal.worker.Elements", "java.lang.invoke.SerializedLambda");

    @TempDir
    Path tmp;

    @Test
    void aTakenSpareLoadedTheCodeOfItsFirstFramesBeforeItBooted() throws Exception {
        String[] options = {"-Dprocpool.test.shape=" + UUID.randomUUID(),
                "-Xlog:class+load=info:file=" + tmp.resolve("classes-%p.log")};
        Set<Long> spares;
        try (ProcessPool first = ProcessPool.builder().workers(2).jvmOptions(options).build()) {
            assertThat(first.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
            await("2 spares", WAIT, () -> first.stats().spares().size() == 2);
            spares = first.stats().spares().stream().map(PoolStats.Worker::pid).collect(Collectors.toSet());
        }
        try (ProcessPool second = ProcessPool.builder().workers(2).jvmOptions(options).build()) {
            assertThat(second.map(x -> x * 2, List.of(1, 2, 3, 4), 1)).containsExactly(2, 4, 6, 8);
            await("both workers ready", WAIT, () -> workerPids(second).size() == 2);
            assertThat(workerPids(second)).as("the second pool runs on the spares").isEqualTo(spares);
        }
        for (long pid : spares) {
            List<String> beforeBooted = new ArrayList<>();
            for (String line : Files.readAllLines(tmp.resolve("classes-" + pid + ".log"))) {
                String name = line.replaceFirst("^(\\[[^]]*\\]\\s*)+", "").split(" ")[0];
                beforeBooted.add(name);
                if (name.equals("dev.procpool.internal.worker.BootedMessage")) {
                    break;
                }
            }
            assertThat(beforeBooted).as("classes spare %d loaded up to BOOTED", pid)
                    .contains("dev.procpool.internal.worker.BootedMessage").containsAll(FIRST_FRAME_CODE);
        }
    }

    @Test
    void aWorkerToldToStopAfterItsRecyclingBudgetIsReplacedBeforeItExits() throws Exception {
        Path release = tmp.resolve("release");
        String releasePath = release.toString();
        try (ProcessPool pool = ProcessPool.builder().workers(1).maxTasksPerWorker(2)
                .jvmOptions("-Dprocpool.test.shape=" + UUID.randomUUID()).build()) {
            await("a spare", WAIT, () -> pool.stats().spares().size() == 1);
            try {
                // its first task makes the worker's exit wait (in a shutdown hook) until the test releases it
                pool.apply(x -> {
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                        while (!Files.exists(Path.of(releasePath)) && System.nanoTime() < deadline) {
                            try {
                                Thread.sleep(10);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }));
                    return ProcessHandle.current().pid();
                }, 0);
                long recycled = pool.apply(x -> ProcessHandle.current().pid(), 0); // its second: the budget is spent
                CompletableFuture<Long> next = pool.submit(() -> ProcessHandle.current().pid());
                long replacement = next.get(30, TimeUnit.SECONDS);
                assertThat(replacement).isNotEqualTo(recycled);
                assertThat(ProcessHandle.of(recycled).map(ProcessHandle::isAlive)).as("the recycled worker, still exiting")
                        .contains(true);
                assertThat(pool.stats().workersRecycled()).isZero(); // counted at its end, which has not come
                assertThat(workerPids(pool)).as("stats list the replacement, not the worker on its way out")
                        .containsExactly(replacement);
            } finally {
                Files.createFile(release);
            }
        }
    }
}
