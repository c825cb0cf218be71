package dev.procpool;

import static dev.procpool.FaultTestSupport.awaitPid;
import static dev.procpool.FaultTestSupport.isGone;
import static dev.procpool.FaultTestSupport.poll;
import static dev.procpool.FaultTestSupport.readPids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.internal.process.SpareWorkers;
import dev.procpool.internal.worker.SharedSegments;
import dev.procpool.testing.NoProcessLeft;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: large values travel through shared memory (files in /dev/shm), both ways, at any size the
 * heaps hold; no segment outlives its use, whatever ends the pool, its workers or the caller. The pools here
 * have no rings (which would take the values up to their size): this is the one-off segments' test;
 * {@link SharedRingTest} is the rings'.
 */
@Timeout(120)
@NoProcessLeft
class SharedMemoryTest {
    private static final int T = SharedSegments.get().threshold();
    private static final Path DIR = SharedSegments.directory();

    @TempDir
    Path tmp;

    @BeforeAll
    static void noRings() {
        System.setProperty("procpool.ringBytes", "0");
    }

    @AfterAll
    static void defaultRings() {
        System.clearProperty("procpool.ringBytes");
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    /** The shared-memory files in the segment folder created by any of {@code pids}. */
    /**
     * The segments and slot files named for these pids, once no spare worker JVM is starting: one starting in
     * the background (after a pool's workers are ready, or after a replacement) has its slot file until it is up.
     */
    static List<Path> segmentsOf(Set<Long> pids) {
        try {
            assertThat(SpareWorkers.awaitSettled(Duration.ofSeconds(60))).as("spares started").isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        try (Stream<Path> files = Files.list(DIR)) {
            return files.filter(p -> {
                String name = p.getFileName().toString();
                return pids.stream().anyMatch(pid -> name.startsWith("procpool-" + pid + "-"));
            }).collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Set<Long> meAnd(Set<Long> workers) {
        Set<Long> all = new HashSet<>(workers);
        all.add(ProcessHandle.current().pid());
        return all;
    }

    /** What a JVM killed between writing a segment and its receiver's open leaves: a file named for it. */
    static void leaveSegmentBehind(String tag) {
        try {
            Files.write(DIR.resolve("procpool-" + ProcessHandle.current().pid() + "-" + tag + ".value"), new byte[100]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void valuesAtAndAroundTheThresholdTravelBothWaysMixedInOneChunk() {
        List<Object> inputs = Arrays.asList(bytes(0, 1), bytes(T - 1, 2), 7L, bytes(T, 3), null, bytes(T + 1, 4),
                "small", "s".repeat(T + 1), bytes(3 * T + 5, 5));
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            List<Object> back = pool.map(x -> x, inputs, inputs.size());
            assertThat(back).hasSize(inputs.size());
            for (int i = 0; i < inputs.size(); i++) {
                if (inputs.get(i) instanceof byte[] b) { // Arrays.equals: AssertJ's diff of MiB-sized arrays is quadratic
                    assertThat(Arrays.equals((byte[]) back.get(i), b)).as("input %d", i).isTrue();
                } else {
                    assertThat(back.get(i)).as("input %d", i).isEqualTo(inputs.get(i));
                }
            }
            List<Object> made = pool.map(n -> switch (n) {
                case 0 -> { long[] a = new long[T / 8]; Arrays.setAll(a, i -> i * 3L); yield a; }
                case 1 -> { double[] a = new double[T / 8 + 1]; Arrays.setAll(a, i -> i / 2.0); yield a; }
                case 2 -> ByteBuffer.wrap(bytes(T + 3, 9));
                case 3 -> new int[] {1, 2, 3};
                default -> ByteBuffer.wrap(bytes(5, 9));
            }, List.of(0, 1, 2, 3, 4), 5);
            long[] longs = new long[T / 8];
            Arrays.setAll(longs, i -> i * 3L);
            double[] doubles = new double[T / 8 + 1];
            Arrays.setAll(doubles, i -> i / 2.0);
            assertThat(Arrays.equals((long[]) made.get(0), longs)).isTrue();
            assertThat(Arrays.equals((double[]) made.get(1), doubles)).isTrue();
            ByteBuffer big = (ByteBuffer) made.get(2);
            assertThat(big.isReadOnly()).as("a large ByteBuffer result is the mapped segment, read-only").isTrue();
            assertThat(big).isEqualTo(ByteBuffer.wrap(bytes(T + 3, 9)));
            assertThat((int[]) made.get(3)).containsExactly(1, 2, 3);
            assertThat((ByteBuffer) made.get(4)).isEqualTo(ByteBuffer.wrap(bytes(5, 9)));
            assertThat(segmentsOf(meAnd(FaultTestSupport.workerPids(pool)))).as("segments left after the calls").isEmpty();
        }
    }

    @Test
    void aFailingElementNextToLargeOnesFailsAloneAndLeavesNoSegment() {
        List<byte[]> inputs = List.of(bytes(2 * T, 1), bytes(T, 2), new byte[] {13}, bytes(T + 7, 3), new byte[] {4});
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            SerializableFunction<byte[], byte[]> f = x -> {
                if (x.length == 1 && x[0] == 13) {
                    throw new IllegalArgumentException("thirteen");
                }
                return x;
            };
            Throwable thrown = catchThrowable(() -> pool.map(f, inputs, 5));
            assertThat(thrown).isInstanceOf(TaskFailedException.class);
            assertThat(((TaskFailedException) thrown).inputIndex()).isEqualTo(2);
            Iterator<byte[]> lazy = pool.imap(f, inputs, 5);
            assertThat(Arrays.equals(lazy.next(), inputs.get(0))).isTrue();
            assertThat(Arrays.equals(lazy.next(), inputs.get(1))).isTrue();
            assertThat(catchThrowable(lazy::next)).isInstanceOf(TaskFailedException.class).hasMessageContaining("thirteen");
            assertThat(Arrays.equals(lazy.next(), inputs.get(3))).isTrue();
            assertThat(lazy.next()).containsExactly(inputs.get(4));
            assertThat(pool.stats().workerCrashes()).isZero();
            assertThat(segmentsOf(meAnd(FaultTestSupport.workerPids(pool)))).isEmpty();
        }
    }

    /** 1.5 GiB each way: the frame limit (512 MiB) no longer applies; the heaps are the limit. */
    @Test
    @Timeout(300)
    void aByteArrayOfOneAndAHalfGiBTravelsBothWays() {
        int size = 3 << 29; // 1.5 GiB
        Set<Long> workers;
        try (ProcessPool pool = ProcessPool.builder().workers(1).jvmOptions("-Xmx4g").build()) {
            byte[] input = new byte[size];
            input[0] = 1;
            input[size / 2] = 2;
            input[size - 1] = 3;
            long sum = pool.apply(x -> (long) x.length + x[0] + x[x.length / 2] + x[x.length - 1], input);
            assertThat(sum).isEqualTo(size + 6L);
            input = null;
            byte[] result = pool.apply(n -> {
                byte[] b = new byte[n];
                b[n - 1] = 9;
                b[n / 3] = 8;
                return b;
            }, size);
            assertThat(result).hasSize(size);
            assertThat(result[size - 1]).isEqualTo((byte) 9);
            assertThat(result[size / 3]).isEqualTo((byte) 8);
            workers = FaultTestSupport.workerPids(pool);
        }
        assertThat(segmentsOf(meAnd(workers))).isEmpty();
    }

    @Test
    void aWorkerThatCrashesOrTimesOutLeavesNoSegment() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).taskTimeout(Duration.ofSeconds(2)).build()) {
            Set<Long> pids = new HashSet<>(FaultTestSupport.workerPids(pool));
            Throwable crash = catchThrowable(() -> pool.map(x -> {
                if (x == 1) {
                    leaveSegmentBehind("crashed");
                    Runtime.getRuntime().halt(1);
                }
                return bytes(2 * T, x);
            }, List.of(0, 1), 2));
            assertThat(crash).isInstanceOf(WorkerCrashedException.class);
            Throwable timeout = catchThrowable(() -> pool.apply(x -> {
                leaveSegmentBehind("timedout");
                FaultTestSupport.sleepForever();
                return x;
            }, bytes(2 * T, 1)));
            assertThat(timeout).isInstanceOf(TaskTimeoutException.class);
            pids.addAll(FaultTestSupport.workerPids(pool));
            pool.close();
            pids.add(ProcessHandle.current().pid());
            assertThat(segmentsOf(pids)).isEmpty();
            try (Stream<Path> files = Files.list(DIR)) {
                assertThat(files.map(p -> p.getFileName().toString())
                        .filter(n -> n.endsWith("-crashed.value") || n.endsWith("-timedout.value")))
                        .as("what the dead workers left, swept when they were settled").isEmpty();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Test
    void terminateWithLargeValuesInFlightLeavesNoSegment() throws Exception {
        Path running = tmp.resolve("running");
        String file = running.toString();
        ProcessPool pool = ProcessPool.builder().workers(2).build();
        Set<Long> pids;
        try {
            List<byte[]> inputs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                inputs.add(bytes(4 * T, i));
            }
            CompletableFuture<List<byte[]>> all = pool.mapAsync(x -> {
                FaultTestSupport.reportPid(file);
                if (x[1] % 2 == 0) {
                    FaultTestSupport.sleepForever();
                }
                return x;
            }, inputs, 1);
            awaitPid(running, Duration.ofSeconds(30));
            pids = meAnd(FaultTestSupport.workerPids(pool));
        } finally {
            pool.terminate();
        }
        pids.addAll(readPids(running));
        assertThat(segmentsOf(pids)).isEmpty();
    }

    /** The caller is killed with SIGKILL while its workers hold large values: the next pool sweeps what is left. */
    @Test
    void afterTheCallersKill9TheNextPoolSweepsWhatItAndItsWorkersLeft() throws Exception {
        Path running = tmp.resolve("running");
        Path childErr = tmp.resolve("child-stderr.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Dprocpool.ringBytes=0", "-cp", System.getProperty("java.class.path"),
                Child.class.getName(),
                running.toString()).redirectError(childErr.toFile()).start();
        try {
            Set<Long> workers = FaultTestSupport.workersPrintedBy(child, childErr);
            Set<Long> pids = new HashSet<>(workers);
            pids.add(child.pid());
            assertThat(segmentsOf(pids)).as("what the caller and a worker leave behind").hasSizeGreaterThanOrEqualTo(2);
            assertThat(child.toHandle().destroyForcibly()).isTrue();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(poll(Duration.ofSeconds(5), () -> workers.stream().allMatch(FaultTestSupport::isGone))).isTrue();
            try (ProcessPool next = ProcessPool.builder().workers(1).build()) {
                SerializableFunction<Integer, Integer> inc = x -> x + 1;
                assertThat(next.apply(inc, 1)).isEqualTo(2);
            }
            assertThat(segmentsOf(pids)).isEmpty();
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The caller {@link #afterTheCallersKill9TheNextPoolSweepsWhatItAndItsWorkersLeft} kills. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            String running = args[0];
            ProcessPool pool = ProcessPool.builder().workers(2).build();
            leaveSegmentBehind("caller");
            pool.mapAsync(x -> {
                leaveSegmentBehind("worker");
                FaultTestSupport.reportPid(running);
                FaultTestSupport.sleepForever();
                return x;
            }, List.of(bytes(2 * T, 1), bytes(2 * T, 2)), 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (readPids(Path.of(running)).stream().distinct().count() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            System.out.println("WORKERS " + pool.stats().workers().stream().map(w -> Long.toString(w.pid()))
                    .collect(Collectors.joining(" ")));
            System.out.flush();
            Thread.sleep(120_000);
            pool.terminate();
        }
    }
}
