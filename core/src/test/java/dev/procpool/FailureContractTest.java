package dev.procpool;

import static dev.procpool.FaultTestSupport.append;
import static dev.procpool.FaultTestSupport.assertNoProcessLeft;
import static dev.procpool.FaultTestSupport.await;
import static dev.procpool.FaultTestSupport.awaitAllGone;
import static dev.procpool.FaultTestSupport.awaitPid;
import static dev.procpool.FaultTestSupport.awaitWorkers;
import static dev.procpool.FaultTestSupport.countLines;
import static dev.procpool.FaultTestSupport.createOnce;
import static dev.procpool.FaultTestSupport.kill9;
import static dev.procpool.FaultTestSupport.liveDescendants;
import static dev.procpool.FaultTestSupport.reportPid;
import static dev.procpool.FaultTestSupport.sleepForever;
import static dev.procpool.FaultTestSupport.workerPids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.procpool.internal.worker.WorkerMain;
import dev.procpool.testing.NoProcessLeft;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The failure contract of issue 5 in process mode: crashes, OOM, stack overflow, timeouts, a corrupt
 * channel, workers that cannot start and values that cannot be serialized. Every test is bounded, closes
 * its pool and checks that no process is left behind.
 */
@Timeout(60)
@NoProcessLeft
class FailureContractTest {
    private static final Duration START = Duration.ofSeconds(30);
    /** The contract: a crash is reported within 2 s of the death. */
    private static final long REPORT_WITHIN_MILLIS = 2_000;

    @TempDir
    Path tmp;

    static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().collect(Collectors.toList());
    }

    static List<Integer> times(List<Integer> inputs, int factor) {
        return inputs.stream().map(x -> x * factor).collect(Collectors.toList());
    }

    // ------------------------------------------------------------------------------ task side

    /**
     * Runs in a worker: for {@code x == target}, prints a marker to stderr, reports the pid and dies
     * the way {@code how} says; any other input returns {@code x * 2}.
     */
    static int dieAt(int x, int target, String how, String pidFile, String marker) {
        if (x != target) {
            return x * 2;
        }
        System.err.println(marker);
        System.err.flush();
        reportPid(pidFile);
        switch (how) {
            case "EXIT" -> {
                pause(300); // lets the parent put more work in flight on this worker
                System.exit(3);
            }
            case "HALT" -> {
                pause(300);
                Runtime.getRuntime().halt(5);
            }
            case "KILL" -> sleepForever();
            default -> throw new IllegalArgumentException(how);
        }
        return -1;
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static int slowTimesTen(int x) {
        pause(50);
        return x * 10;
    }

    // ------------------------------------------------------------------------------ crashes

    @Test
    void systemExitInTaskFailsWithWorkerCrashedAndPoolRecovers() throws Exception {
        crashScenario("EXIT", 3);
    }

    @Test
    void haltInTaskFailsWithWorkerCrashedAndPoolRecovers() throws Exception {
        crashScenario("HALT", 5);
    }

    @Test
    void sigkillFromOutsideFailsWithWorkerCrashedAndPoolRecovers() throws Exception {
        crashScenario("KILL", 137);
    }

    private void crashScenario(String how, int expectedExit) throws Exception {
        String pidFile = tmp.resolve("pid").toString();
        String marker = "procpool-marker-before-" + how + "-" + System.nanoTime();
        List<Integer> inputs = range(0, 8);
        List<Integer> others = range(0, 6);
        try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
            Set<Long> initial = awaitWorkers(pool, 2, Set.of(), START);
            long startedBefore = pool.stats().workersStarted();

            CompletableFuture<List<Integer>> victim =
                    pool.mapAsync(x -> dieAt(x, 5, how, pidFile, marker), inputs, 1);
            // Another call sharing the workers: its chunks may be in flight on the dying worker.
            CompletableFuture<List<Integer>> bystander = pool.mapAsync(x -> slowTimesTen(x), others, 1);
            AtomicLong failedAt = new AtomicLong();
            victim.whenComplete((r, e) -> failedAt.set(System.nanoTime()));

            long pid = awaitPid(Path.of(pidFile), Duration.ofSeconds(20));
            assertThat(initial).contains(pid);
            if (how.equals("KILL")) {
                kill9(pid);
            }
            awaitAllGone("the dying worker", Set.of(pid), Duration.ofSeconds(5));
            long deathSeen = System.nanoTime();

            ExecutionException thrown = catchThrowableOfType(ExecutionException.class,
                    () -> victim.get(10, TimeUnit.SECONDS));
            assertThat(thrown).as("the map must fail").isNotNull();
            assertThat(TimeUnit.NANOSECONDS.toMillis(failedAt.get() - deathSeen))
                    .as("ms from the death to the failure").isLessThan(REPORT_WITHIN_MILLIS);
            assertThat(thrown.getCause()).isInstanceOf(WorkerCrashedException.class);
            WorkerCrashedException crash = (WorkerCrashedException) thrown.getCause();
            assertThat(crash.inputIndex()).isEqualTo(5);
            assertThat(crash.exitCode()).isEqualTo(expectedExit);
            assertThat(crash.getMessage()).contains("exit code " + expectedExit).contains("input 5");
            if (expectedExit == 137) {
                assertThat(crash.getMessage()).contains("SIGKILL");
            }
            assertThat(crash.lastStderrLines()).as("last stderr lines").contains(marker);

            // The same failure through the blocking call.
            // (victim is done; map is exercised again below on a healthy pool.)

            Set<Long> now = awaitWorkers(pool, 2, Set.of(pid), Duration.ofSeconds(15));
            assertThat(now).doesNotContain(pid);
            assertThat(pool.stats().workersStarted()).isGreaterThan(startedBefore);
            assertThat(pool.stats().workerCrashes()).isEqualTo(1);

            assertThat(bystander.get(20, TimeUnit.SECONDS)).as("other work is untouched").isEqualTo(times(others, 10));
            List<Integer> big = range(0, 40);
            assertThat(pool.map(x -> x + 1, big)).isEqualTo(big.stream().map(x -> x + 1).collect(Collectors.toList()));
        }
    }

    @Test
    void blockingMapThrowsWorkerCrashedWithIndex() {
        try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
            Throwable thrown = catchThrowable(() -> pool.map(x -> x == 3 ? haltNow(9) : x, range(0, 6), 1));
            assertThat(thrown).isInstanceOf(WorkerCrashedException.class);
            assertThat(((WorkerCrashedException) thrown).inputIndex()).isEqualTo(3);
            assertThat(((WorkerCrashedException) thrown).exitCode()).isEqualTo(9);
            assertThat(pool.map(x -> x * 3, range(0, 6))).isEqualTo(times(range(0, 6), 3));
        }
    }

    /** imap goes on after a failure: every other input's result arrives, none is lost or duplicated. */
    @Test
    void imapDeliversEveryOtherResultAroundACrashAndATimeout() {
        String pidFile = tmp.resolve("pid").toString();
        List<Integer> inputs = range(0, 24);
        try (ProcessPool pool = ProcessPool.builder().workers(2).taskTimeout(Duration.ofSeconds(1)).build();
                ResultIterator<Integer> results = pool.imap(x -> {
                    if (x == 5) {
                        Runtime.getRuntime().halt(5);
                    }
                    if (x == 14) {
                        loopAt(x, 14, pidFile);
                    }
                    return slowTimesTen(x);
                }, inputs, 3)) {
            List<Object> outcomes = new ArrayList<>();
            while (results.hasNext()) {
                try {
                    outcomes.add(results.next());
                } catch (ProcessPoolException e) {
                    outcomes.add(e);
                }
            }
            assertThat(outcomes).hasSize(inputs.size());
            for (int i = 0; i < inputs.size(); i++) {
                Object outcome = outcomes.get(i);
                if (i == 5) {
                    assertThat(outcome).isInstanceOf(WorkerCrashedException.class);
                    assertThat(((ProcessPoolException) outcome).inputIndex()).isEqualTo(5);
                } else if (i == 14) {
                    assertThat(outcome).isInstanceOf(TaskTimeoutException.class);
                    assertThat(((ProcessPoolException) outcome).inputIndex()).isEqualTo(14);
                } else {
                    assertThat(outcome).as("result %d", i).isEqualTo(i * 10);
                }
            }
            assertThat(pool.stats().tasksFailed()).isEqualTo(2);
        }
    }

    @Test
    void systemExitZeroInATaskIsStillACrash() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Throwable thrown = catchThrowable(() -> pool.map(x -> x == 1 ? exitNow(0) : x, range(0, 3), 1));
            assertThat(thrown).isInstanceOf(WorkerCrashedException.class);
            assertThat(((WorkerCrashedException) thrown).inputIndex()).isEqualTo(1);
            assertThat(((WorkerCrashedException) thrown).exitCode()).isZero();
            assertThat(pool.map(x -> x * 3, range(0, 6))).isEqualTo(times(range(0, 6), 3));
        }
    }

    static int exitNow(int code) {
        System.exit(code);
        return -1;
    }

    /** One worker: the other call's chunk is certainly in flight behind the dying task. */
    @Test
    void aCrashedWorkersOtherTasksAreRequeuedNotLost() throws Exception {
        String pidFile = tmp.resolve("pid").toString();
        List<Integer> others = range(0, 6);
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Set<Long> first = awaitWorkers(pool, 1, Set.of(), START);
            CompletableFuture<Integer> dying = pool.submit(() -> {
                reportPid(pidFile);
                pause(300); // the other call's chunk is sent meanwhile
                return haltNow(5);
            });
            CompletableFuture<List<Integer>> bystander = pool.mapAsync(x -> slowTimesTen(x), others, 3);
            Throwable thrown = catchThrowable(() -> dying.get(20, TimeUnit.SECONDS));
            assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isInstanceOf(WorkerCrashedException.class);
            assertThat(bystander.get(20, TimeUnit.SECONDS)).isEqualTo(times(others, 10));
            assertThat(pool.stats().tasksFailed()).isEqualTo(1);
            awaitWorkers(pool, 1, first, Duration.ofSeconds(15));
        }
    }

    @Test
    void anIdleWorkerKilledFromOutsideIsReplaced() {
        try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
            Set<Long> first = awaitWorkers(pool, 2, Set.of(), START);
            long victim = first.iterator().next();
            kill9(victim);
            awaitAllGone("the killed idle worker", Set.of(victim), Duration.ofSeconds(5));
            awaitWorkers(pool, 2, Set.of(victim), Duration.ofSeconds(15));
            assertThat(pool.stats().workerCrashes()).isEqualTo(1);
            assertThat(pool.map(x -> x + 1, range(0, 10))).isEqualTo(range(1, 11));
        }
    }

    /**
     * A user's JVM option that makes the JVM itself write to stdout at start (unified logging without
     * an output goes to stdout): the pool must either work or fail the first call with the reason,
     * within 10 s; never hang.
     */
    @Test
    void aJvmOptionThatLogsToStdoutDoesNotHangThePool() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).jvmOptions("-Xlog:gc").build()) {
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> assertThat(pool.map(x -> x + 1, range(0, 3))).containsExactly(1, 2, 3));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            assertThat(thrown).as("a pool whose workers log GC to stdout").isNull();
        }
    }

    static int haltNow(int code) {
        Runtime.getRuntime().halt(code);
        return -1;
    }

    @Test
    void retriesRunATaskAgainAfterItsWorkerCrashed() {
        String once = tmp.resolve("crashed-once").toString();
        List<Integer> inputs = range(0, 10);
        try (ProcessPool pool = ProcessPool.builder().workers(2).retries(1).build()) {
            List<Integer> results = pool.map(x -> {
                if (x == 4 && createOnce(once)) {
                    System.err.println("crashing on the first attempt");
                    Runtime.getRuntime().halt(7);
                }
                return x * 2;
            }, inputs, 2);
            assertThat(results).isEqualTo(times(inputs, 2));
            PoolStats stats = pool.stats();
            assertThat(stats.tasksRetried()).isEqualTo(1);
            assertThat(stats.workerCrashes()).isEqualTo(1);
            assertThat(stats.tasksFailed()).isZero();
        }
    }

    @Test
    void aTaskThatAlwaysCrashesFailsAfterTheRetries() {
        String attempts = tmp.resolve("attempts").toString();
        try (ProcessPool pool = ProcessPool.builder().workers(2).retries(2).build()) {
            Throwable thrown = catchThrowable(() -> pool.map(x -> {
                if (x == 1) {
                    append(attempts, "attempt\n");
                    System.err.println("always crashing");
                    Runtime.getRuntime().halt(6);
                }
                return x;
            }, range(0, 4), 1));
            assertThat(thrown).isInstanceOf(WorkerCrashedException.class);
            WorkerCrashedException crash = (WorkerCrashedException) thrown;
            assertThat(crash.inputIndex()).isEqualTo(1);
            assertThat(crash.exitCode()).isEqualTo(6);
            assertThat(countLines(Path.of(attempts))).as("attempts: 1 + 2 retries").isEqualTo(3);
            assertThat(pool.stats().tasksRetried()).isEqualTo(2);
            // Replacement workers still serve.
            awaitWorkers(pool, 2, Set.of(), Duration.ofSeconds(15));
            assertThat(pool.map(x -> x + 1, range(0, 4))).containsExactly(1, 2, 3, 4);
        }
    }

    /**
     * Not a crash, but what the crash and timeout guarantees rest on ("a slow worker never holds work
     * that an idle one could do", DESIGN): two long tasks on two idle workers run side by side.
     */
    @Test
    void twoLongTasksOnTwoIdleWorkersRunSideBySide() throws Exception {
        Path running = tmp.resolve("running");
        String file = running.toString();
        try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
            awaitWorkers(pool, 2, Set.of(), START);
            CompletableFuture<List<Integer>> work = pool.mapAsync(x -> {
                reportPid(file);
                pause(1_500);
                return x;
            }, range(0, 2), 1);
            boolean sideBySide = FaultTestSupport.poll(Duration.ofMillis(1_200),
                    () -> FaultTestSupport.readPids(running).size() == 2);
            work.get(10, TimeUnit.SECONDS);
            assertThat(sideBySide).as("the second task started while the first ran (pids: %s)",
                    FaultTestSupport.readPids(running)).isTrue();
            assertThat(Set.copyOf(FaultTestSupport.readPids(running))).hasSize(2);
        }
    }

    // ------------------------------------------------------------------------------ memory, stack

    @Test
    void outOfMemoryInAWorkerIsACrashThatNamesTheOom() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).jvmOptions("-Xmx64m").build()) {
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> pool.map(x -> {
                if (x == 2) {
                    List<long[]> hoard = new ArrayList<>();
                    while (true) {
                        hoard.add(new long[1 << 17]); // 1 MB at a time, without bound
                    }
                }
                return x;
            }, range(0, 4), 1));
            assertThat(thrown).isInstanceOf(WorkerCrashedException.class);
            WorkerCrashedException crash = (WorkerCrashedException) thrown;
            assertThat(crash.inputIndex()).isEqualTo(2);
            assertThat(crash.getMessage() + "\n" + String.join("\n", crash.lastStderrLines()))
                    .contains("OutOfMemoryError");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
            awaitWorkers(pool, 1, Set.of(), Duration.ofSeconds(15));
            assertThat(pool.map(x -> x * 2, range(0, 4))).isEqualTo(times(range(0, 4), 2));
        }
    }

    static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    @Test
    void stackOverflowIsAnOrdinaryTaskFailure() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Set<Long> pids = awaitWorkers(pool, 1, Set.of(), START);
            Throwable thrown = catchThrowable(() -> pool.map(x -> x == 1 ? recurse(0) : x, range(0, 3), 1));
            assertThat(thrown).isInstanceOf(TaskFailedException.class);
            TaskFailedException failure = (TaskFailedException) thrown;
            assertThat(failure.inputIndex()).isEqualTo(1);
            assertThat(failure.remoteClassName()).isEqualTo(StackOverflowError.class.getName());
            assertThat(failure.getCause()).isInstanceOf(StackOverflowError.class);
            assertThat(failure.getCause().getStackTrace()).as("the remote stack trace").isNotEmpty();
            assertThat(pool.map(x -> x + 1, range(0, 3))).containsExactly(1, 2, 3);
            assertThat(workerPids(pool)).as("the same worker goes on").isEqualTo(pids);
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    // ------------------------------------------------------------------------------ timeouts

    static int loopAt(int x, int target, String pidFile) {
        if (x == target) {
            reportPid(pidFile);
            long spin = 0;
            while (spin >= 0) { // a busy loop without end that the JIT cannot drop
                spin++;
                if (spin == Long.MAX_VALUE) {
                    spin = 0;
                }
            }
        }
        return x * 2;
    }

    @Test
    void aTaskPastItsTimeLimitFailsWithTimeoutAndItsWorkerIsReplaced() throws Exception {
        String pidFile = tmp.resolve("pid").toString();
        List<Integer> inputs = range(0, 8);
        List<Integer> others = range(0, 6);
        try (ProcessPool pool = ProcessPool.builder().workers(2).taskTimeout(Duration.ofMillis(500)).build()) {
            awaitWorkers(pool, 2, Set.of(), START);
            long started = System.nanoTime();
            // Chunks of 4: the looping task's chunk-mates (and perhaps the other call's chunk) are held
            // by the worker that gets killed and must be re-queued, not lost.
            CompletableFuture<List<Integer>> looping = pool.mapAsync(x -> loopAt(x, 5, pidFile), inputs, 4);
            CompletableFuture<List<Integer>> bystander = pool.mapAsync(x -> slowTimesTen(x), others, 3);
            ExecutionException thrown = catchThrowableOfType(ExecutionException.class,
                    () -> looping.get(15, TimeUnit.SECONDS));
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(thrown).isNotNull();
            assertThat(thrown.getCause()).isInstanceOf(TaskTimeoutException.class);
            TaskTimeoutException timeout = (TaskTimeoutException) thrown.getCause();
            assertThat(timeout.inputIndex()).isEqualTo(5);
            assertThat(timeout.timeout()).isEqualTo(Duration.ofMillis(500));
            assertThat(elapsedMillis).as("ms until the timeout was reported").isBetween(500L, 5_000L);

            long pid = Long.parseLong(java.nio.file.Files.readAllLines(Path.of(pidFile)).get(0).trim());
            awaitAllGone("the timed-out worker", Set.of(pid), Duration.ofSeconds(5));
            awaitWorkers(pool, 2, Set.of(pid), Duration.ofSeconds(15));
            assertThat(pool.stats().taskTimeouts()).isEqualTo(1);
            assertThat(bystander.get(20, TimeUnit.SECONDS)).isEqualTo(times(others, 10));
            assertThat(pool.map(x -> x * 2, inputs)).isEqualTo(times(inputs, 2));
        }
    }

    /** One worker: the other call's chunk is certainly in flight behind the looping task. */
    @Test
    void aTimedOutWorkersOtherTasksAreRequeuedNotLost() throws Exception {
        String pidFile = tmp.resolve("pid").toString();
        List<Integer> others = range(0, 6);
        try (ProcessPool pool = ProcessPool.builder().workers(1).taskTimeout(Duration.ofMillis(500)).build()) {
            Set<Long> first = awaitWorkers(pool, 1, Set.of(), START);
            CompletableFuture<Integer> looping = pool.submit(() -> loopAt(1, 1, pidFile));
            CompletableFuture<List<Integer>> bystander = pool.mapAsync(x -> slowTimesTen(x), others, 3);
            Throwable thrown = catchThrowable(() -> looping.get(20, TimeUnit.SECONDS));
            assertThat(thrown).isInstanceOf(ExecutionException.class).cause().isInstanceOf(TaskTimeoutException.class);
            assertThat(((TaskTimeoutException) thrown.getCause()).inputIndex()).isZero();
            assertThat(bystander.get(20, TimeUnit.SECONDS)).isEqualTo(times(others, 10));
            assertThat(pool.stats().tasksFailed()).isEqualTo(1);
            assertThat(pool.stats().taskTimeouts()).isEqualTo(1);
            awaitWorkers(pool, 1, first, Duration.ofSeconds(15));
        }
    }

    @Test
    void theTimeLimitIsPerTaskNotPerChunk() {
        // Five tasks of 300 ms in one chunk: 1.5 s in all, each well within 800 ms.
        try (ProcessPool pool = ProcessPool.builder().workers(1).taskTimeout(Duration.ofMillis(800)).build()) {
            List<Integer> inputs = range(0, 5);
            assertThat(pool.map(x -> {
                pause(300);
                return x;
            }, inputs, 5)).isEqualTo(inputs);
            assertThat(pool.stats().taskTimeouts()).isZero();
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    // ------------------------------------------------------------------------------ corrupt channel

    /** Bytes that are not a frame; read as a header they would announce a 402 MB payload. */
    static void writeGarbageToTheChannel() {
        byte[] junk = new byte[64 * 1024];
        junk[0] = 'J';
        junk[1] = 'U';
        junk[2] = 'N';
        junk[3] = 'K';
        junk[4] = 3;
        junk[5] = 0x18; // 0x18000000 = 402,653,184: under the 512 MB frame cap
        for (int i = 9; i < junk.length; i++) {
            junk[i] = (byte) (i * 31);
        }
        try {
            // the worker's own end of the channel, where WorkerCommand puts it; checked to be a pipe first:
            // opened by path, any other file there (a jar on the class path) would be truncated
            Path channel = Path.of("/proc/self/fd/" + WorkerMain.CHANNEL_OUT_FD);
            if (!Files.readSymbolicLink(channel).toString().startsWith("pipe:")) {
                throw new IllegalStateException(channel + " is not the channel: " + Files.readSymbolicLink(channel));
            }
            try (FileOutputStream out = new FileOutputStream(channel.toFile(), true)) {
                out.write(junk);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void garbageOnTheChannelIsACrashNotAHangOrAHugeAllocation() {
        String pidFile = tmp.resolve("pid").toString();
        List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).collect(Collectors.toList());
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            awaitWorkers(pool, 1, Set.of(), START);
            System.gc();
            heap.forEach(MemoryPoolMXBean::resetPeakUsage);
            long before = heap.stream().mapToLong(p -> p.getUsage().getUsed()).sum();
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> pool.map(x -> {
                if (x == 1) {
                    reportPid(pidFile);
                    writeGarbageToTheChannel();
                    sleepForever();
                }
                return x;
            }, range(0, 3), 1));
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
            assertThat(thrown).isInstanceOf(WorkerCrashedException.class);
            assertThat(((WorkerCrashedException) thrown).inputIndex()).isEqualTo(1);
            assertThat(thrown.getMessage()).contains("corrupt channel");
            assertThat(elapsedMillis).as("ms until the corrupt channel was reported").isLessThan(5_000);
            assertThat((peak - before) / (1024 * 1024)).as("MB the parent's heap grew by").isLessThan(100);
            long pid = FaultTestSupport.readPids(Path.of(pidFile)).get(0);
            awaitAllGone("the worker with the corrupt channel", Set.of(pid), Duration.ofSeconds(5));
            awaitWorkers(pool, 1, Set.of(pid), Duration.ofSeconds(15));
            assertThat(pool.map(x -> x * 2, range(0, 4))).isEqualTo(times(range(0, 4), 2));
        }
    }

    // ------------------------------------------------------------------------------ cannot start

    @Test
    void aBadJvmOptionFailsTheFirstCallWithTheReasonAndDoesNotLoop() {
        Set<Long> baseline = liveDescendants();
        try (ProcessPool pool = ProcessPool.builder().workers(2).jvmOptions("-XX:+NoSuchOption").build()) {
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> pool.map(x -> x, range(0, 4)));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            assertThat(thrown).isInstanceOf(ProcessPoolException.class);
            assertThat(thrown.getMessage()).contains("NoSuchOption");
            Throwable again = catchThrowable(() -> pool.map(x -> x, range(0, 4)));
            assertThat(again).as("the pool stays broken").isInstanceOf(ProcessPoolException.class);
            assertThat(again.getMessage()).contains("NoSuchOption");
            assertNotLooping(pool, baseline, "-XX:+NoSuchOption");
        }
    }

    @Test
    void aFailingInitializerFailsTheFirstCallWithItsCause() {
        Set<Long> baseline = liveDescendants();
        try (ProcessPool pool = ProcessPool.builder().workers(2).jvmOptions("-Dprocpool.test=initializer-boom")
                .initializer(() -> {
                    throw new IllegalStateException("initializer boom");
                }).build()) {
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> pool.map(x -> x, range(0, 4)));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            assertThat(thrown).isInstanceOf(ProcessPoolException.class);
            assertThat(thrown.getMessage()).contains("initializer boom");
            assertThat(rootCause(thrown)).isInstanceOf(IllegalStateException.class).hasMessage("initializer boom");
            assertNotLooping(pool, baseline, "-Dprocpool.test=initializer-boom");
        }
    }

    @Test
    void aJavaExecutableThatCannotRunFailsTheFirstCall() {
        Set<Long> baseline = liveDescendants();
        try (ProcessPool pool = ProcessPool.builder().workers(2)
                .javaExecutable(tmp.resolve("no-such-java")).build()) {
            long started = System.nanoTime();
            Throwable thrown = catchThrowable(() -> pool.map(x -> x, range(0, 4)));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            assertThat(thrown).isInstanceOf(ProcessPoolException.class);
            assertThat(thrown.getMessage()).contains("no-such-java");
            assertNotLooping(pool, baseline, "no-such-java");
        }
    }

    static Throwable rootCause(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c;
    }

    /**
     * No worker ever became ready, and the pool does not keep launching JVMs: over the next second at
     * most one more process of this pool (its command line has {@code marker}: other tests' spare JVMs
     * of this test JVM come and go meanwhile) shows up (a launch that was already under way when the pool
     * gave up; see the report on issue 5), and none is left at the end.
     */
    private static void assertNotLooping(ProcessPool pool, Set<Long> baseline, String marker) {
        assertThat(pool.stats().workersStarted()).isZero();
        assertNoProcessLeft(baseline);
        Set<Long> seen = new java.util.HashSet<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (System.nanoTime() < deadline) {
            ProcessHandle.current().descendants()
                    .filter(h -> !baseline.contains(h.pid()))
                    .filter(h -> h.info().commandLine().map(line -> line.contains(marker)).orElse(false))
                    .forEach(h -> seen.add(h.pid()));
            pause(5);
        }
        assertThat(seen).as("processes of this pool launched after the first call failed: %s", seen)
                .hasSizeLessThanOrEqualTo(1);
        assertNoProcessLeft(baseline);
        assertThat(pool.stats().workersStarted()).isZero();
        long closing = System.nanoTime();
        pool.close();
        assertThat(Duration.ofNanos(System.nanoTime() - closing)).as("close() of the broken pool")
                .isLessThan(Duration.ofSeconds(2));
    }
}
