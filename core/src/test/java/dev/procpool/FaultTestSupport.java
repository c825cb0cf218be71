package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.procpool.testing.ProcessTree;
import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * Helpers of the fault-injection suite (issue 5): checks on processes within a test (through
 * {@link ProcessTree}; the check after each test is {@link dev.procpool.testing.NoProcessLeft}), polling
 * with deadlines, and the side channel through which a task tells the test its worker's pid (a file).
 *
 * <p>The task-side helpers are static so that the lambdas calling them capture only strings and
 * numbers, never a test instance.
 */
final class FaultTestSupport {
    /** How long PID 1 (or the JVM's own reaper) may take to reap an exited process here. */
    static final Duration REAP_SLACK = Duration.ofSeconds(3);

    private FaultTestSupport() {}

    // ------------------------------------------------------------------------ waiting

    /** Polls until the condition holds; fails the test with {@code what} at the deadline. */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + timeout + " waiting for: " + what);
            }
            sleepQuietly(10);
        }
    }

    /**
     * The pids a child caller prints on its line {@code WORKERS <pid> <pid> ...} (its workers, once it
     * has them), read from its stdout; fails the test, with the child's stderr, when no such line comes
     * within 60 s.
     */
    static Set<Long> workersPrintedBy(Process child, Path childStderr) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                for (String l; (l = out.readLine()) != null; ) {
                    if (l.startsWith("WORKERS ")) {
                        return l;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        }).get(60, TimeUnit.SECONDS);
        if (line == null) {
            fail("the child printed no WORKERS line; its stderr: "
                    + (childStderr != null && Files.exists(childStderr) ? Files.readString(childStderr) : "(not kept)"));
        }
        Set<Long> pids = new HashSet<>();
        for (String pid : line.substring("WORKERS ".length()).trim().split(" ")) {
            pids.add(Long.parseLong(pid));
        }
        return pids;
    }

    /** Polls until the condition holds; returns false at the deadline. */
    static boolean poll(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            sleepQuietly(10);
        }
        return true;
    }

    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    // ------------------------------------------------------------------------ processes

    /** True when no process with this pid exists, or it is a zombie (exited, not yet reaped). */
    static boolean isGone(long pid) {
        return ProcessTree.isGone(pid);
    }

    /** Pids of this JVM's live (non-zombie) descendants. */
    static Set<Long> liveDescendants() {
        return ProcessTree.liveDescendantPids();
    }

    /** Waits until every pid is gone; fails naming those still alive. */
    static void awaitAllGone(String what, Set<Long> pids, Duration timeout) {
        if (!poll(timeout, () -> pids.stream().allMatch(FaultTestSupport::isGone))) {
            Set<Long> alive = pids.stream().filter(p -> !isGone(p)).collect(Collectors.toSet());
            fail(what + ": still alive after " + timeout + ": " + describe(alive));
        }
    }

    /**
     * Waits until this JVM has no live descendant beyond {@code baseline} (processes left by code
     * outside this suite, taken before the test); fails naming the leftovers.
     */
    static void assertNoProcessLeft(Set<Long> baseline) {
        BooleanSupplier clean = () -> {
            Set<Long> now = new HashSet<>(liveDescendants());
            now.removeAll(baseline);
            return now.isEmpty();
        };
        if (!poll(REAP_SLACK, clean)) {
            Set<Long> now = new HashSet<>(liveDescendants());
            now.removeAll(baseline);
            fail("descendant processes left behind: " + describe(now));
        }
    }

    static String describe(Set<Long> pids) {
        return pids.stream()
                .map(pid -> pid + " " + ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("?"))
                .collect(Collectors.joining("; ", "[", "]"));
    }

    /** Pids of the pool's live, ready workers. */
    static Set<Long> workerPids(ProcessPool pool) {
        return pool.stats().workers().stream().map(PoolStats.Worker::pid).collect(Collectors.toSet());
    }

    /** Waits until the pool reports {@code count} ready workers, none of them in {@code excluded}. */
    static Set<Long> awaitWorkers(ProcessPool pool, int count, Set<Long> excluded, Duration timeout) {
        await(count + " ready workers (excluding " + excluded + "), stats: " + pool.stats(), timeout, () -> {
            Set<Long> pids = workerPids(pool);
            return pids.size() == count && pids.stream().noneMatch(excluded::contains);
        });
        return workerPids(pool);
    }

    // ------------------------------------------------------------------------ side channel (task side)

    /** Called in a worker: appends this JVM's pid as a line to {@code file}. */
    static long reportPid(String file) {
        long pid = ProcessHandle.current().pid();
        append(file, pid + "\n");
        return pid;
    }

    static void append(String file, String text) {
        try (FileOutputStream out = new FileOutputStream(file, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.getFD().sync();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Test side: the pids written so far to {@code file} by {@link #reportPid}. */
    static List<Long> readPids(Path file) {
        try {
            if (!Files.exists(file)) {
                return List.of();
            }
            return Files.readAllLines(file).stream()
                    .filter(line -> !line.isBlank())
                    .map(String::trim)
                    .map(Long::parseLong)
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Test side: waits for the first pid in {@code file}. */
    static long awaitPid(Path file, Duration timeout) {
        await("a task to report its pid in " + file, timeout, () -> !readPids(file).isEmpty());
        return readPids(file).get(0);
    }

    static int countLines(Path file) {
        try {
            return Files.exists(file) ? (int) Files.readAllLines(file).stream().filter(l -> !l.isBlank()).count() : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Called in a worker: creates {@code file}; true if this call created it (first attempt). */
    static boolean createOnce(String file) {
        try {
            Files.write(Path.of(file), new byte[0], StandardOpenOption.CREATE_NEW);
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Called in a worker: sleeps without end (until the worker is killed). */
    static void sleepForever() {
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                // keep sleeping: only a kill ends this task
            }
        }
    }

    /** Kills a process with SIGKILL (the signal only: no pipes are touched). */
    static void kill9(long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        assertThat(handle).as("process %d to kill", pid).isPresent();
        assertThat(handle.get().destroyForcibly()).as("SIGKILL sent to %d", pid).isTrue();
    }
}
