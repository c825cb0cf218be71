package dev.procpool;

import static dev.procpool.FaultTestSupport.append;
import static dev.procpool.FaultTestSupport.await;
import static dev.procpool.FaultTestSupport.awaitAllGone;
import static dev.procpool.FaultTestSupport.awaitPid;
import static dev.procpool.FaultTestSupport.awaitWorkers;
import static dev.procpool.FaultTestSupport.isGone;
import static dev.procpool.FaultTestSupport.readPids;
import static dev.procpool.FaultTestSupport.reportPid;
import static dev.procpool.FaultTestSupport.sleepForever;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.internal.worker.WorkerMain;
import dev.procpool.testing.NoProcessLeft;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 13, items 1, 2, 7 and 8: a worker's end is learned from its process even when a task's child
 * holds its pipes; a worker's whole process tree dies with it, however it ends; a frozen worker is given
 * up and its tasks move on; a task that closes fd 0 or fd 1 breaks nothing, and one that corrupts the
 * channel itself is the one blamed.
 */
@Timeout(45)
@NoProcessLeft
class ProcessTreeContractTest {
    private static final Duration START = Duration.ofSeconds(30);
    /** The contract: after the worker's end, no process a task started is left after this. */
    private static final Duration TREE_GONE_WITHIN = Duration.ofSeconds(2);

    @TempDir
    Path tmp;

    private Path children;

    @AfterEach
    void killLeftovers() {
        if (children != null) { // a failed test must not leave sleeps for the next one
            readPids(children).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().collect(Collectors.toList());
    }

    // ------------------------------------------------------------------------------ task side

    /**
     * Runs in a worker: starts a direct child and, through a shell that backgrounds it and exits, an
     * orphan (re-parented away from the worker at once); both sleep for ten minutes. With {@code inheritIo}
     * both hold the worker's own stdin, stdout and stderr. Their pids go to {@code pidFile}.
     */
    static void spawnChildren(String pidFile, boolean inheritIo) {
        try {
            ProcessBuilder direct = new ProcessBuilder("sleep", "600");
            ProcessBuilder shell = new ProcessBuilder("sh", "-c", "sleep 600 & echo $! >> \"$0\"", pidFile);
            if (inheritIo) {
                direct.inheritIO();
                shell.inheritIO();
            }
            Process child = direct.start();
            append(pidFile, child.pid() + "\n");
            if (shell.start().waitFor() != 0) {
                throw new IllegalStateException("the shell failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs in a worker: starts a process in a session of its own (out of the worker's group, so it
     * survives the worker) whose stdout is the worker's end of the channel: the channel never ends.
     */
    static void spawnChannelHolder(String pidFile) {
        try {
            Path channel = Path.of("/proc/self/fd/" + WorkerMain.CHANNEL_OUT_FD);
            // opened by path: anything but the channel pipe (a jar on the class path) must be left alone
            if (!Files.readSymbolicLink(channel).toString().startsWith("pipe:")) {
                throw new IllegalStateException(channel + " is not the channel: " + Files.readSymbolicLink(channel));
            }
            Process holder = new ProcessBuilder("setsid", "sleep", "600")
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(channel.toFile())).start();
            append(pidFile, holder.pid() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String childrenFile() {
        children = tmp.resolve("children");
        return children.toString();
    }

    /** Waits until {@code count} children are recorded (and, with {@code alive}, still run); returns their pids. */
    private Set<Long> awaitChildren(int count, boolean alive) {
        FaultTestSupport.await(count + " children recorded in " + children, Duration.ofSeconds(20),
                () -> readPids(children).size() >= count);
        Set<Long> pids = new HashSet<>(readPids(children));
        if (alive) {
            assertThat(pids).allSatisfy(pid -> assertThat(isGone(pid)).as("child %d alive", pid).isFalse());
        }
        return pids;
    }

    // ------------------------------------------------------------------------------ item 1

    enum End { TIMEOUT, HALT }

    /** A child holding the worker's stdio must not hide the worker's end: the call fails, a replacement serves. */
    @ParameterizedTest
    @EnumSource(End.class)
    void aChildHoldingTheWorkersPipesDoesNotHideItsEnd(End end) {
        String pidFile = childrenFile();
        try (ProcessPool pool = ProcessPool.builder().workers(1).taskTimeout(Duration.ofSeconds(1)).build()) {
            awaitWorkers(pool, 1, Set.of(), START);
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> pool.map(x -> {
                if (x == 1) {
                    spawnChildren(pidFile, true);
                    if (end == End.HALT) {
                        Runtime.getRuntime().halt(5);
                    }
                    sleepForever();
                }
                return x;
            }, range(0, 3), 1));
            long failedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(thrown).isInstanceOf(end == End.TIMEOUT ? TaskTimeoutException.class : WorkerCrashedException.class);
            assertThat(((ProcessPoolException) thrown).inputIndex()).isEqualTo(1);
            assertThat(failedAfter).as("ms until the call failed").isLessThan(8_000);
            awaitAllGone("the task's children", new HashSet<>(readPids(children)), TREE_GONE_WITHIN);
            assertThat(pool.map(x -> x * 2, range(0, 4))).containsExactly(0, 2, 4, 6);
        }
    }

    /**
     * The general case: whatever holds the channel open after the worker died (here a process that left
     * its group, which nothing kills), the end is learned from the process and the call fails.
     */
    @Test
    void aProcessHoldingTheChannelDoesNotHideTheWorkersEnd() {
        String pidFile = childrenFile();
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            awaitWorkers(pool, 1, Set.of(), START);
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> pool.map(x -> {
                if (x == 1) {
                    spawnChannelHolder(pidFile);
                    Runtime.getRuntime().halt(5);
                }
                return x;
            }, range(0, 3), 1));
            long failedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(thrown).isInstanceOf(WorkerCrashedException.class);
            assertThat(((WorkerCrashedException) thrown).inputIndex()).isEqualTo(1);
            assertThat(((WorkerCrashedException) thrown).exitCode()).isEqualTo(5);
            assertThat(failedAfter).as("ms until the call failed").isLessThan(5_000);
            assertThat(readPids(children)).as("the holder").hasSize(1);
            assertThat(isGone(readPids(children).get(0))).as("the holder still runs").isFalse();
            assertThat(pool.map(x -> x * 2, range(0, 4))).containsExactly(0, 2, 4, 6);
        }
    }

    // ------------------------------------------------------------------------------ item 2

    enum Event { TIMEOUT, CRASH, RECYCLE, CANCEL, CLOSE, TERMINATE }

    /** Whatever ends a worker, within 2 s no process that its tasks started is left, orphans included. */
    @ParameterizedTest
    @EnumSource(Event.class)
    void aWorkersProcessTreeDiesWithIt(Event event) throws Exception {
        String pidFile = childrenFile();
        ProcessPool.Builder builder = ProcessPool.builder().workers(1);
        if (event == Event.TIMEOUT) {
            builder.taskTimeout(Duration.ofSeconds(1));
        }
        if (event == Event.RECYCLE) {
            builder.maxTasksPerWorker(1);
        }
        ProcessPool pool = builder.build();
        try {
            Set<Long> workers = awaitWorkers(pool, 1, Set.of(), START);
            boolean returns = event == Event.RECYCLE || event == Event.CLOSE;
            CompletableFuture<Integer> task = pool.submit(() -> {
                spawnChildren(pidFile, false);
                if (event == Event.CRASH) {
                    Runtime.getRuntime().halt(5);
                }
                if (!returns) {
                    sleepForever();
                }
                return 1;
            });
            // a recycled worker may be gone, its tree with it, before we look
            Set<Long> pids = awaitChildren(2, event != Event.RECYCLE);
            switch (event) {
                case TIMEOUT -> assertThat(catchThrowable(() -> task.get(20, TimeUnit.SECONDS)))
                        .hasCauseInstanceOf(TaskTimeoutException.class);
                case CRASH -> assertThat(catchThrowable(() -> task.get(20, TimeUnit.SECONDS)))
                        .hasCauseInstanceOf(WorkerCrashedException.class);
                case RECYCLE -> {
                    assertThat(task.get(20, TimeUnit.SECONDS)).isEqualTo(1);
                    FaultTestSupport.await("the worker recycled", Duration.ofSeconds(20),
                            () -> workers.stream().allMatch(FaultTestSupport::isGone));
                }
                case CANCEL -> {
                    assertThat(task.cancel(true)).isTrue();
                    awaitAllGone("the cancelled worker", workers, Duration.ofSeconds(10));
                }
                case CLOSE -> {
                    assertThat(task.get(20, TimeUnit.SECONDS)).isEqualTo(1);
                    pool.close();
                }
                case TERMINATE -> pool.terminate();
            }
            awaitAllGone("the task's children after " + event, pids, TREE_GONE_WITHIN);
        } finally {
            pool.terminate();
        }
    }

    // ------------------------------------------------------------------------------ item 7

    private static void signal(String name, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
            assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A worker frozen while idle: the tasks sent to it move to the healthy one once it is given up. */
    @Test
    void aFrozenWorkersTasksMoveOnAndItIsReplaced() {
        Duration liveness = Duration.ofSeconds(2);
        Duration taskTimeout = Duration.ofSeconds(3);
        long frozen = -1;
        try (ProcessPool pool = ProcessPool.builder().workers(2).taskTimeout(taskTimeout).livenessTimeout(liveness)
                .build()) {
            Set<Long> workers = awaitWorkers(pool, 2, Set.of(), START);
            frozen = workers.iterator().next();
            signal("STOP", frozen);
            long started = System.nanoTime();
            List<Integer> inputs = range(0, 20);
            assertThat(pool.map(x -> x * 2, inputs, 1))
                    .isEqualTo(inputs.stream().map(x -> x * 2).collect(Collectors.toList()));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(tookMillis).as("ms for the map").isLessThan(taskTimeout.plus(liveness).toMillis() + 3_000);
            awaitAllGone("the frozen worker", Set.of(frozen), Duration.ofSeconds(5));
            // its process is gone before the pool has read its end: wait for the pool, then count exactly
            await("the frozen worker counted as a crash", Duration.ofSeconds(5), () -> pool.stats().workerCrashes() > 0);
            assertThat(pool.stats().workerCrashes()).isEqualTo(1);
            awaitWorkers(pool, 2, Set.of(frozen), Duration.ofSeconds(20));
        } finally {
            if (frozen > 0 && !isGone(frozen)) {
                signal("CONT", frozen);
                ProcessHandle.of(frozen).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** close() does not wait on a frozen worker longer than the liveness timeout. */
    @Test
    void closeIsBoundedWhileAWorkerIsFrozen() {
        Duration liveness = Duration.ofSeconds(2);
        long frozen = -1;
        ProcessPool pool = ProcessPool.builder().workers(1).livenessTimeout(liveness).build();
        try {
            frozen = awaitWorkers(pool, 1, Set.of(), START).iterator().next();
            signal("STOP", frozen);
            CompletableFuture<Integer> queued = pool.submit(() -> 42); // sent to the frozen worker
            long started = System.nanoTime();
            pool.close();
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(tookMillis).as("ms for close()").isLessThan(liveness.toMillis() + 3_000);
            assertThat(queued).isDone();
            awaitAllGone("the frozen worker", Set.of(frozen), Duration.ofSeconds(5));
        } finally {
            if (frozen > 0 && !isGone(frozen)) {
                signal("CONT", frozen);
                ProcessHandle.of(frozen).ifPresent(ProcessHandle::destroyForcibly);
            }
            pool.terminate();
        }
    }

    // ------------------------------------------------------------------------------ item 8

    static int closeStdin(int x) throws IOException {
        System.in.close();
        new FileInputStream(FileDescriptor.in).close();
        return System.in.read() == -1 ? x : -1;
    }

    static int closeStdout(int x) throws IOException {
        new FileOutputStream(FileDescriptor.out).close();
        return x;
    }

    /** Python gives a task /dev/null as stdin: closing it ends nothing, and nobody is blamed later. */
    @Test
    void aTaskThatClosesStdinBreaksNothing() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            assertThat(pool.map(x -> closeStdin(x), List.of(7))).containsExactly(7);
            assertThat(pool.map(x -> x * 2, range(0, 6), 1)).isEqualTo(List.of(0, 2, 4, 6, 8, 10));
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    /** fd 1 is not the channel: a task that closes it ends nothing. */
    @Test
    void aTaskThatClosesStdoutBreaksNothing() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            assertThat(pool.map(x -> closeStdout(x), List.of(7))).containsExactly(7);
            assertThat(pool.map(x -> x * 2, range(0, 6), 1)).isEqualTo(List.of(0, 2, 4, 6, 8, 10));
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    /** A task that breaks the channel anyway, writing into the worker's end of it, is the one blamed. */
    @Test
    void aTaskThatCorruptsTheChannelItselfIsTheOneBlamed() {
        String pidFile = tmp.resolve("pid").toString();
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Throwable thrown = catchThrowable(() -> pool.map(x -> {
                if (x == 2) {
                    reportPid(pidFile);
                    FailureContractTest.writeGarbageToTheChannel();
                    sleepForever();
                }
                return x;
            }, range(0, 5), 1));
            assertThat(thrown).isInstanceOf(WorkerCrashedException.class);
            assertThat(((WorkerCrashedException) thrown).inputIndex()).isEqualTo(2);
            long pid = awaitPid(Path.of(pidFile), Duration.ofSeconds(5));
            awaitAllGone("the worker whose channel broke", Set.of(pid), Duration.ofSeconds(5));
            assertThat(pool.map(x -> x * 2, range(0, 4))).containsExactly(0, 2, 4, 6);
        }
    }
}
