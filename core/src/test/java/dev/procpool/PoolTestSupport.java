package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** Shared checks for tests that start pools. */
final class PoolTestSupport {
    private PoolTestSupport() {}

    static ProcessPool pool(PoolMode mode, int workers) {
        return ProcessPool.builder().workers(workers).mode(mode).build();
    }

    /** For tasks: a sleep that a plain lambda can call (task functions cannot throw checked exceptions). */
    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Waits (bounded) until this JVM has no child processes left, and fails naming them if some remain. */
    static void assertNoWorkersLeft() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        List<ProcessHandle> left = liveDescendants();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            left = liveDescendants();
        }
        assertThat(left.stream().map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                .collect(Collectors.toList()))
                .as("worker processes left behind")
                .isEmpty();
    }

    /** Children that are really running: a zombie (state Z in /proc) counts as gone. */
    static List<ProcessHandle> liveDescendants() {
        return ProcessHandle.current().descendants().filter(p -> !isGone(p.pid())).collect(Collectors.toList());
    }

    static boolean isGone(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            String afterName = stat.substring(stat.lastIndexOf(')') + 2);
            return afterName.startsWith("Z") || afterName.startsWith("X");
        } catch (java.io.IOException e) {
            return true;
        }
    }
}
