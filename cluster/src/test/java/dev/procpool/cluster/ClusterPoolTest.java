package dev.procpool.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;
import dev.procpool.TaskFailedException;
import dev.procpool.TaskTimeoutException;
import dev.procpool.WorkerCrashedException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableRunnable;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three member JVMs on 127.0.0.1 shared by the tests in order; the last tests kill and freeze them.
 * The members do not have this class: every lambda here reaches them by code shipping.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterPoolTest {
    @TempDir
    static Path directory;
    static MemberProcesses cluster;
    private ClusterPool pool;

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    static void startMembers() throws Exception {
        cluster = new MemberProcesses(directory);
        cluster.start(3, 1);
    }

    @AfterAll
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    static void stopMembers() throws Exception {
        if (cluster != null) {
            cluster.close(); // checks that every member and worker JVM is gone
        }
    }

    @AfterEach
    void closePool() {
        if (pool != null) {
            pool.terminate();
        }
        for (MemberProcesses.Member member : cluster.members) {
            if (member.process.isAlive()) {
                member.family();
            }
        }
    }

    private ClusterPool.Builder builder() {
        return ClusterPool.builder().members(cluster.addresses()).workersPerMember(1)
                .heartbeatTimeout(Duration.ofSeconds(3)).scratchDirectory(directory.resolve("client"));
    }

    /** Where a task ran: the member's name, which each member hands its worker JVMs. */
    static String member() {
        return System.getenv("PROCPOOL_MEMBER");
    }

    static String slowSquare(int x) {
        try {
            Thread.sleep(40);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return x * x + "@" + member();
    }

    @Test
    @Order(1)
    void mapRunsOnEveryMemberWithShippedClasses() throws Exception {
        pool = builder().build();
        List<Integer> inputs = IntStream.range(0, 90).boxed().toList();
        List<String> results = pool.map(ClusterPoolTest::slowSquare, inputs, 2);

        assertThat(results).hasSize(90);
        for (int i = 0; i < 90; i++) {
            assertThat(results.get(i)).startsWith(i * i + "@127.0.0.1:");
        }
        Map<String, Long> byMember = results.stream().map(r -> r.substring(r.indexOf('@') + 1))
                .collect(Collectors.groupingBy(m -> m, Collectors.counting()));
        assertThat(byMember.keySet()).containsExactlyInAnyOrder(cluster.addresses());
        assertThat(pool.inputsPerMember()).containsOnlyKeys(cluster.addresses());
        assertThat(pool.inputsPerMember().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(90);

        // the test classes were shipped as a jar, content-addressed, to every member
        for (MemberProcesses.Member member : cluster.members) {
            assertThat(shippedJarWith(member, "dev/procpool/cluster/ClusterPoolTest.class")).isNotNull();
        }
    }

    @Test
    @Order(2)
    void jarsCrossOnceAndAreCachedByHash() throws Exception {
        Map<Path, FileTime> before = new HashMap<>();
        for (MemberProcesses.Member member : cluster.members) {
            try (Stream<Path> jars = Files.list(member.cache.resolve("jars"))) {
                for (Path jar : jars.toList()) {
                    before.put(jar, Files.getLastModifiedTime(jar));
                }
            }
        }
        assertThat(before).isNotEmpty();
        pool = builder().build();
        assertThat(pool.apply((Integer x) -> x + 1, 41)).isEqualTo(42);
        for (MemberProcesses.Member member : cluster.members) {
            try (Stream<Path> jars = Files.list(member.cache.resolve("jars"))) {
                for (Path jar : jars.toList()) {
                    assertThat(before).containsEntry(jar, Files.getLastModifiedTime(jar));
                }
            }
        }
    }

    /** The shared-memory value files of this member JVM ({@code Pool.share} writes one per value). */
    private static long sharedFilesOf(MemberProcesses.Member member) throws IOException {
        try (Stream<Path> files = Files.list(dev.procpool.internal.worker.SharedSegments.directory())) {
            String prefix = "procpool-" + member.process.pid() + "-";
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(prefix) && n.endsWith(".value")).count();
        }
    }

    @Test
    @Order(3)
    void aSharedValueGoesOnceToEachMemberAndOnceToEachOfItsWorkers() throws Exception {
        pool = builder().build();
        long[] table = new long[1 << 20];
        java.util.Arrays.setAll(table, i -> i * 5L);
        long expected = java.util.Arrays.stream(table).sum();
        dev.procpool.Shared<long[]> shared = pool.share(table);
        List<String> seen = pool.map((Integer i) -> {
            long sum = java.util.Arrays.stream(shared.get()).sum();
            Thread.sleep(40); // spreads the inputs over the members
            return member() + " " + ProcessHandle.current().pid() + " "
                    + dev.procpool.internal.worker.SharedValues.transfers() + " " + sum;
        }, IntStream.range(0, 45).boxed().toList(), 1);
        assertThat(seen).allSatisfy(line -> assertThat(line).endsWith(" 1 " + expected));
        assertThat(seen.stream().map(l -> l.split(" ")[0]).distinct()).containsExactlyInAnyOrder(cluster.addresses());
        for (MemberProcesses.Member member : cluster.members) {
            assertThat(sharedFilesOf(member)).as("one copy on member %s", member.address()).isEqualTo(1);
        }
        shared.close();
        Throwable closed = org.assertj.core.api.Assertions.catchThrowable(
                () -> pool.map((Integer i) -> shared.get().length, IntStream.range(0, 6).boxed().toList(), 1));
        assertThat(closed).isInstanceOf(dev.procpool.TaskFailedException.class);
        for (MemberProcesses.Member member : cluster.members) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sharedFilesOf(member) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(sharedFilesOf(member)).as("freed on member %s", member.address()).isZero();
        }
    }

    @Test
    @Order(3)
    void sameCallsAndFailuresAsTheLocalPool() throws Exception {
        pool = builder().taskTimeout(Duration.ofSeconds(2)).build();

        assertThat(pool.starmap((Integer a, Integer b) -> a * b, List.of(Map.entry(2, 3), Map.entry(4, 5))))
                .containsExactly(6, 20);
        assertThat(pool.submit(() -> "called").get(30, TimeUnit.SECONDS)).isEqualTo("called");
        assertThat(pool.submit(() -> { }).get(30, TimeUnit.SECONDS)).isNull();
        assertThat(pool.mapAsync((Integer x) -> -x, List.of(1, 2, 3)).get(30, TimeUnit.SECONDS))
                .containsExactly(-1, -2, -3);
        assertThat(pool.map(x -> x, List.of())).isEmpty();

        // a task that throws: the lowest failing index, the original exception as cause
        assertThatThrownBy(() -> pool.map((Integer x) -> {
            if (x == 7 || x == 13) {
                throw new IllegalArgumentException("bad input " + x);
            }
            return x;
        }, IntStream.range(0, 20).boxed().toList(), 3))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                    assertThat(e.inputIndex()).isEqualTo(7);
                    assertThat(e.getMessage()).contains("input 7");
                    assertThat(e.getCause()).isInstanceOf(IllegalArgumentException.class).hasMessage("bad input 7");
                    assertThat(e.remoteClassName()).isEqualTo(IllegalArgumentException.class.getName());
                });

        // a worker JVM that dies takes down that worker only; the call says which input
        assertThatThrownBy(() -> pool.map((Integer x) -> {
            if (x == 5) {
                Runtime.getRuntime().halt(3);
            }
            return x;
        }, IntStream.range(0, 8).boxed().toList(), 4))
                .isInstanceOfSatisfying(WorkerCrashedException.class, e -> {
                    assertThat(e.inputIndex()).isEqualTo(5);
                    assertThat(e.exitCode()).isEqualTo(3);
                });

        // a task past the time limit
        assertThatThrownBy(() -> pool.apply(ClusterPoolTest::sleepLong, 1)).isInstanceOf(TaskTimeoutException.class).satisfies(e ->
                assertThat(((ProcessPoolException) e).inputIndex()).isZero());

        // imap goes on after a failure and keeps order; imapUnordered yields everything once
        try (ResultIterator<Integer> results = pool.imap((Integer x) -> {
            if (x == 2) {
                throw new IllegalStateException("two");
            }
            return x * 10;
        }, IntStream.range(0, 6).boxed().toList(), 1)) {
            List<Object> seen = new ArrayList<>();
            while (results.hasNext()) {
                try {
                    seen.add(results.next());
                } catch (TaskFailedException e) {
                    seen.add("failed " + e.inputIndex());
                }
            }
            assertThat(seen).containsExactly(0, 10, "failed 2", 30, 40, 50);
        }
        List<Integer> unordered = new ArrayList<>();
        pool.imapUnordered((Integer x) -> x + 1, IntStream.range(0, 50).boxed().toList(), 3)
                .forEachRemaining(unordered::add);
        assertThat(unordered).containsExactlyInAnyOrderElementsOf(IntStream.range(1, 51).boxed().toList());

        // an endless input with bounded read-ahead
        try (ResultIterator<Long> squares = pool.imap((Long x) -> x * x, () -> Stream.iterate(0L, x -> x + 1).iterator())) {
            for (long i = 0; i < 200; i++) {
                assertThat(squares.next()).isEqualTo(i * i);
            }
        }
        // and the pool is still fine
        assertThat(pool.map(x -> x * 2, List.of(1, 2, 3))).containsExactly(2, 4, 6);
    }

    static int sleepLong(int x) {
        try {
            Thread.sleep(30_000);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return x;
    }

    static String slowTag(int x) throws InterruptedException {
        Thread.sleep(150);
        return x + "@" + member();
    }

    /** Records this worker JVM's pid in {@code file}, then runs far past any test's patience. */
    static String recordPidAndSleep(String file) throws Exception {
        Files.writeString(Path.of(file), Long.toString(ProcessHandle.current().pid()));
        Thread.sleep(60_000);
        return "not cancelled";
    }

    @Test
    @Order(4)
    void cancelTrueKillsTheRunningTaskOnItsMember() throws Exception {
        pool = builder().build();
        String pidFile = directory.resolve("cancelled-task.pid").toString();
        CompletableFuture<String> running = pool.submit(() -> recordPidAndSleep(pidFile));
        long pid = Long.parseLong(awaitFile(Path.of(pidFile)));
        assertThat(MemberProcesses.gone(pid)).isFalse();
        List<Long> workersBefore = new ArrayList<>();
        for (MemberProcesses.Member member : cluster.members) {
            workersBefore.addAll(member.family());
        }
        assertThat(workersBefore).contains(pid); // a worker JVM of one of the members

        assertThat(running.cancel(true)).isTrue();

        awaitTrue(() -> MemberProcesses.gone(pid), "the cancelled task's worker JVM " + pid + " is still running");
        assertThat(running).isCancelled();
        // its member replaced the worker, and every member still serves calls
        List<String> after = pool.map(x -> x + "@" + ProcessHandle.current().pid(), IntStream.range(0, 12).boxed().toList(), 1);
        assertThat(after).hasSize(12).noneMatch(r -> r.endsWith("@" + pid));
    }

    @Test
    @Order(5)
    void closeWithAnOpenUnconsumedImapReturns() throws Exception {
        pool = builder().build();
        ResultIterator<Long> squares = pool.imap((Long x) -> x * x, () -> Stream.iterate(0L, x -> x + 1).iterator(), 2);
        assertThat(squares.next()).isZero(); // the call is under way; the rest is left unconsumed

        Thread closer = new Thread(pool::close, "test-close");
        closer.start();
        closer.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(closer.isAlive()).as("close() returned").isFalse();

        assertThat(pool.isShutdown()).isTrue();
        assertThat(pool.isTerminated()).isTrue();
        assertThat(pool.awaitTermination(Duration.ZERO)).isTrue();
        // what was read stays readable, in order; then the iterator says the input was cut short
        long expected = 1;
        Throwable end = null;
        try {
            while (squares.hasNext()) {
                assertThat(squares.next()).isEqualTo(expected * expected);
                expected++;
            }
        } catch (ProcessPoolException e) {
            end = e;
        }
        assertThat(end).isNotNull().hasMessageContaining("closed before the input was read to its end");
        assertThatThrownBy(() -> pool.map(x -> x, List.of(1))).isInstanceOf(IllegalStateException.class);
        // the members ended this pool's worker JVMs
        for (MemberProcesses.Member member : cluster.members) {
            awaitTrue(() -> member.family().stream().filter(p -> p != member.pid()).allMatch(MemberProcesses::gone),
                    "member " + member.address() + " still runs worker JVMs after close()");
        }
    }

    @Test
    @Order(6)
    void asExecutorServiceRunsOnTheMembers() throws Exception {
        pool = builder().build();
        ExecutorService executor = pool.asExecutorService();
        List<Callable<String>> tasks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int n = i;
            tasks.add((SerializableCallable<String>) () -> n + "@" + member());
        }
        List<Future<String>> futures = executor.invokeAll(tasks, 30, TimeUnit.SECONDS);
        for (int i = 0; i < 6; i++) {
            assertThat(futures.get(i).get()).startsWith(i + "@127.0.0.1:");
        }
        Future<?> failing = executor.submit((SerializableRunnable) () -> {
            throw new IllegalStateException("from a member");
        });
        assertThatThrownBy(failing::get).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("from a member");

        executor.shutdown();
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(pool.isTerminated()).isTrue();
        assertThatThrownBy(() -> executor.submit((SerializableCallable<Integer>) () -> 1))
                .isInstanceOf(RejectedExecutionException.class);
    }

    /**
     * terminate() with chunks running on every member: they end with the pool. No member is "given up" with
     * its chunks "run again elsewhere" (the client shutting down is not a member fault), and no member is
     * prepared again for a pool that is ending.
     */
    @Test
    @Order(7)
    void terminateWithChunksOnTheMembersGivesNoMemberUp() throws Exception {
        pool = builder().build();
        awaitTrue(() -> pool.members().size() == 3, "not every member became ready");
        Path started = directory.resolve("terminate-started");
        String file = started.toString();
        CompletableFuture<List<String>> running = pool.mapAsync((Integer x) -> {
            try {
                return recordPidAndSleep(file + x);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, IntStream.range(0, 6).boxed().toList(), 1);
        awaitTrue(() -> IntStream.range(0, 6).filter(x -> Files.exists(Path.of(file + x))).count() >= 3,
                "tasks did not start on every member");

        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new OutputStream() { // slf4j-simple writes to the System.err of the moment
            @Override
            public synchronized void write(int b) {
                err.write(b);
                captured.write(b);
            }

            @Override
            public synchronized void write(byte[] bytes, int offset, int length) {
                err.write(bytes, offset, length);
                captured.write(bytes, offset, length);
            }
        }, true));
        try {
            pool.terminate();
        } finally {
            System.setErr(err);
        }

        assertThatThrownBy(() -> running.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ProcessPoolException.class);
        String logged;
        synchronized (captured) {
            logged = captured.toString();
        }
        assertThat(logged).doesNotContain("giving up member").doesNotContain("preparing it again");
    }

    private static String awaitFile(Path file) throws Exception {
        awaitTrue(() -> Files.exists(file) && Files.size(file) > 0, file + " was not written");
        return Files.readString(file);
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Polls the condition up to 20 s (each test's own timeout bounds it too). */
    private static void awaitTrue(Condition condition, String failure) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(failure);
            }
            Thread.sleep(20);
        }
    }

    @Test
    @Order(14)
    void membersKilledAndFrozenMidMapLoseNothing() throws Exception {
        pool = builder().build();
        assertThat(pool.members()).hasSize(3);
        MemberProcesses.Member killed = cluster.members.get(0);
        MemberProcesses.Member frozen = cluster.members.get(1);
        MemberProcesses.Member survivor = cluster.members.get(2);

        List<Integer> inputs = IntStream.range(0, 60).boxed().toList();
        List<String> results = new ArrayList<>();
        long start = System.nanoTime();
        try (ResultIterator<String> it = pool.imapUnordered(ClusterPoolTest::slowTagUnchecked, inputs, 1)) {
            while (it.hasNext()) {
                results.add(it.next());
                if (results.size() == 6) { // every member is busy now
                    assertThat(pool.inputsPerMember().keySet()).hasSize(3);
                    killed.family();
                    frozen.family();
                    killed.signal("KILL");
                    frozen.signal("STOP");
                }
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        List<Integer> numbers = results.stream().map(r -> Integer.parseInt(r.substring(0, r.indexOf('@')))).toList();
        assertThat(numbers).containsExactlyInAnyOrderElementsOf(inputs); // none lost, none twice
        long onSurvivor = results.stream().filter(r -> r.endsWith("@" + survivor.address())).count();
        assertThat(onSurvivor).isGreaterThan(30);
        assertThat(took).isLessThan(Duration.ofSeconds(40));

        // the survivor still serves calls
        assertThat(pool.map(x -> x + "@" + member(), List.of(1, 2, 3))).allMatch(r -> r.endsWith(survivor.address()));
        frozen.family();
        frozen.signal("KILL"); // a frozen process dies by SIGKILL too; the final check waits for it
    }

    static String slowTagUnchecked(int x) {
        try {
            return slowTag(x);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    @Order(15)
    void noMemberLeftFailsTheCallClearly() throws Exception {
        MemberProcesses.Member last = cluster.members.get(2);
        pool = builder().build();
        CompletableFuture<List<String>> call = pool.mapAsync(ClusterPoolTest::slowTagUnchecked,
                IntStream.range(0, 100).boxed().toList(), 1);
        Thread.sleep(500);
        last.family();
        last.signal("KILL");
        assertThatThrownBy(() -> call.get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(ProcessPoolException.class)
                .hasMessageContaining("no procpool cluster member is left");
    }

    private static Path shippedJarWith(MemberProcesses.Member member, String entry) throws IOException {
        try (Stream<Path> jars = Files.list(member.cache.resolve("jars"))) {
            for (Path jar : jars.toList()) {
                try (JarFile file = new JarFile(jar.toFile())) {
                    if (file.getEntry(entry) != null) {
                        return jar;
                    }
                }
            }
        }
        return null;
    }
}
