package dev.procpool;

import static dev.procpool.FaultTestSupport.assertNoProcessLeft;
import static dev.procpool.FaultTestSupport.liveDescendants;
import static dev.procpool.FaultTestSupport.poll;
import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.internal.process.SpareWorkers;
import dev.procpool.testing.NoProcessLeft;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 5: many pools created, used and closed in a row leave no process, thread, file descriptor,
 * slot file or shared-memory mapping behind, measured from this JVM's {@code /proc/self}.
 *
 * <p>The issue asks for 300; here a worker JVM takes 300-450 ms to start on a busy 2-core machine, so
 * 300 pools take over two minutes. The default is 80, which tells a leak just as well (one fd or
 * thread per pool would show as 80, far beyond the slack); {@code -Dprocpool.leakTest.pools=300} runs
 * the number.
 */
@NoProcessLeft
class ResourceLeakTest {
    private static final int POOLS = Integer.getInteger("procpool.leakTest.pools", 80);
    /**
     * Slack for what the JVM itself may open or start lazily during the run (a jar opened on first
     * class load, a Common-Cleaner or Attach thread, surefire's own pipes), not per pool: a leak of
     * one per pool would show as {@code POOLS}.
     */
    private static final int FD_SLACK = 4;
    private static final int THREAD_SLACK = 3;

    @Test
    @Timeout(400) // bounds a hang; 80 pools take 25-40 s, 300 about 2 min
    void manyPoolsInARowLeaveNothingBehind() {
        Set<Long> baseline = liveDescendants();
        String slotPrefix = "procpool-" + ProcessHandle.current().pid() + "-";
        // Warm up: load every class, start every lazily-started JDK thread and open every jar once.
        for (int i = 0; i < 3; i++) {
            useOnePool(i);
        }
        settleSpares();
        settle();
        int fdsBefore = openFds().size();
        int threadsBefore = Thread.getAllStackTraces().size();
        long mapsBefore = slotMappings();

        long start = System.nanoTime();
        for (int i = 0; i < POOLS; i++) {
            useOnePool(i);
        }
        long tookMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        System.out.printf("ResourceLeakTest: %d pools in %d ms (%d ms each)%n", POOLS, tookMillis, tookMillis / POOLS);

        assertNoProcessLeft(baseline);
        settleSpares();
        // Threads and fds of the last pool end asynchronously (pumpers, exec threads): wait, bounded.
        poll(Duration.ofSeconds(5), () -> Thread.getAllStackTraces().size() <= threadsBefore + THREAD_SLACK
                && openFds().size() <= fdsBefore + FD_SLACK);
        settle();
        int threadsAfter = Thread.getAllStackTraces().size();
        Map<String, Long> fdsAfter = openFds();
        assertThat(threadsAfter).as("threads after %d pools (before: %d); now: %s", POOLS, threadsBefore,
                threadNames()).isLessThanOrEqualTo(threadsBefore + THREAD_SLACK);
        assertThat(fdsAfter.size()).as("open fds after %d pools (before: %d); by target: %s", POOLS, fdsBefore,
                byTarget(fdsAfter)).isLessThanOrEqualTo(fdsBefore + FD_SLACK);
        assertThat(slotFiles(slotPrefix)).as("slot files left in /dev/shm or tmpdir").isEmpty();
        // The slot's shared memory is unmapped when its buffer is collected.
        poll(Duration.ofSeconds(5), () -> {
            System.gc();
            return slotMappings() <= mapsBefore + 3;
        });
        assertThat(slotMappings()).as("procpool slot mappings in /proc/self/maps (before: %d)", mapsBefore)
                .isLessThanOrEqualTo(mapsBefore + 3);
    }

    private static void useOnePool(int i) {
        // Flags that only make the worker JVM start faster.
        try (ProcessPool pool = ProcessPool.builder().workers(1)
                .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC").build()) {
            assertThat(pool.map(x -> x + i, List.of(1, 2))).containsExactly(1 + i, 2 + i);
        }
    }

    /**
     * Each pool keeps a spare JVM, taken by the next one: the spare the last pool started in the background
     * is left (as one was before), booted, with its slot file gone.
     */
    private static void settleSpares() {
        try {
            assertThat(SpareWorkers.awaitSettled(Duration.ofSeconds(60))).as("spares booted").isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void settle() {
        System.gc();
        FailureContractTest.pause(100);
    }

    /** fd number to link target. */
    private static Map<String, Long> openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.collect(Collectors.toMap(p -> p.getFileName().toString(), p -> 1L));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Long> byTarget(Map<String, Long> fds) {
        Map<String, Long> counts = new TreeMap<>();
        for (String fd : fds.keySet()) {
            String target;
            try {
                target = Files.readSymbolicLink(Path.of("/proc/self/fd", fd)).toString();
            } catch (IOException e) {
                continue;
            }
            counts.merge(target.replaceAll("\\d+", "N"), 1L, Long::sum);
        }
        return counts;
    }

    private static List<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().collect(Collectors.toList());
    }

    private static List<Path> slotFiles(String prefix) {
        return Stream.of(Path.of("/dev/shm"), Path.of(System.getProperty("java.io.tmpdir")))
                .filter(Files::isDirectory)
                .flatMap(dir -> {
                    try (Stream<Path> files = Files.list(dir)) {
                        return files.filter(f -> f.getFileName().toString().startsWith(prefix))
                                .collect(Collectors.toList()).stream();
                    } catch (IOException e) {
                        return Stream.empty();
                    }
                })
                .collect(Collectors.toList());
    }

    private static long slotMappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.contains("procpool-") && l.contains(".slot")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
