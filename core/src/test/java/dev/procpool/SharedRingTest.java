package dev.procpool;

import static dev.procpool.SharedMemoryTest.bytes;
import static dev.procpool.SharedMemoryTest.segmentsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.internal.worker.WorkerRings;
import dev.procpool.testing.NoProcessLeft;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: medium values through each worker's two shared-memory rings (in its slot file, unlinked once
 * the worker is ready), with real worker JVMs. The rings are made small here so that chunks fill them and
 * values wrap around; the ring's own edge cases are in worker-launcher's {@code RingTest}.
 */
@Timeout(120)
@NoProcessLeft
class SharedRingTest {
    /** Each direction's ring in this class's pools. */
    private static final int RING = 256 * 1024;
    /** The workers' threshold (their default) and the caller's, set alike here. */
    private static final int RT = WorkerRings.DEFAULT_THRESHOLD;

    @BeforeAll
    static void smallRings() {
        System.setProperty("procpool.ringBytes", Integer.toString(RING));
    }

    @AfterAll
    static void defaultRings() {
        System.clearProperty("procpool.ringBytes");
    }

    /** A result the caller cannot rebuild: its constructor refuses to run in the JVM of pid {@code refuseIn}. */
    record Picky(long refuseIn, byte[] data) {
        Picky {
            if (ProcessHandle.current().pid() == refuseIn) {
                throw new IllegalStateException("not rebuilt here");
            }
        }
    }

    private static Set<Long> me() {
        return Set.of(ProcessHandle.current().pid());
    }

    private static void assertSameValues(List<?> back, List<?> sent) {
        assertThat(back).hasSize(sent.size());
        for (int i = 0; i < sent.size(); i++) {
            Object s = sent.get(i);
            Object b = back.get(i);
            if (s instanceof byte[] x) { // Arrays.equals: AssertJ's diff of big arrays is slow
                assertThat(Arrays.equals((byte[]) b, x)).as("value %d", i).isTrue();
            } else {
                assertThat(b).as("value %d", i).isEqualTo(s);
            }
        }
    }

    @Test
    void valuesAroundTheRingsThresholdAndCapacityTravelBothWaysMixedInOneChunk() {
        List<Object> inputs = Arrays.asList(bytes(0, 1), bytes(RT - 1, 2), 7L, bytes(RT, 3), null, bytes(RT + 1, 4),
                bytes(RING - 1, 5), bytes(RING, 6), bytes(RING + 1, 7), "r".repeat(RT + 1), bytes(3 * RT, 8));
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            assertSameValues(pool.map(x -> x, inputs, inputs.size()), inputs);
            List<Object> made = pool.map(n -> switch (n) {
                case 0 -> { long[] a = new long[RT / 8]; Arrays.setAll(a, i -> i * 3L); yield a; }
                case 1 -> { int[] a = new int[RT / 4 + 1]; Arrays.setAll(a, i -> -i); yield a; }
                case 2 -> { double[] a = new double[RT]; Arrays.setAll(a, i -> i / 2.0); yield a; }
                case 3 -> { float[] a = new float[RT / 4]; a[7] = 1.5f; yield a; }
                case 4 -> { short[] a = new short[RT / 2]; a[9] = -3; yield a; }
                case 5 -> { char[] a = new char[RT / 2]; Arrays.fill(a, 'q'); yield a; }
                case 6 -> ByteBuffer.wrap(bytes(RT + 3, 9)).order(ByteOrder.LITTLE_ENDIAN);
                case 7 -> new ArrayList<>(List.of("a".repeat(RT), "b")); // an object with a big encoding
                default -> bytes(RING, 10);
            }, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8), 9);
            long[] longs = new long[RT / 8];
            Arrays.setAll(longs, i -> i * 3L);
            assertThat(Arrays.equals((long[]) made.get(0), longs)).isTrue();
            assertThat(((int[]) made.get(1))[RT / 4]).isEqualTo(-(RT / 4));
            assertThat(((double[]) made.get(2))[RT - 1]).isEqualTo((RT - 1) / 2.0);
            assertThat(((float[]) made.get(3))[7]).isEqualTo(1.5f);
            assertThat(((short[]) made.get(4))[9]).isEqualTo((short) -3);
            assertThat(new String((char[]) made.get(5))).isEqualTo("q".repeat(RT / 2));
            ByteBuffer buffer = (ByteBuffer) made.get(6);
            assertThat(buffer.isReadOnly()).isTrue();
            assertThat(buffer.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(buffer).isEqualTo(ByteBuffer.wrap(bytes(RT + 3, 9)));
            assertThat(made.get(7)).isEqualTo(List.of("a".repeat(RT), "b"));
            assertThat(Arrays.equals((byte[]) made.get(8), bytes(RING, 10))).isTrue();
            assertThat(segmentsOf(me())).as("the ring file is unlinked once the worker is ready").isEmpty();
        }
    }

    @Test
    void chunksThatFillTheRingsAndWrapAroundManyTimesComeBackIntact() {
        List<byte[]> inputs = new ArrayList<>();
        for (int i = 0; i < 300; i++) { // 300 x 40-60 KiB, about 60 laps of each ring
            inputs.add(bytes(40 * 1024 + 97 * i, i));
        }
        try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
            assertSameValues(pool.map(x -> x, inputs, 25), inputs);
            assertSameValues(pool.map(x -> x, inputs, 1), inputs);
            List<byte[]> reversed = pool.map(x -> {
                byte[] r = x.clone();
                for (int i = 0; i < r.length / 2; i++) {
                    byte t = r[i];
                    r[i] = r[r.length - 1 - i];
                    r[r.length - 1 - i] = t;
                }
                return r;
            }, inputs, 7);
            for (int i = 0; i < inputs.size(); i++) {
                byte[] r = reversed.get(i);
                assertThat(r[0]).isEqualTo(inputs.get(i)[r.length - 1]);
                assertThat(r[r.length - 1]).isEqualTo(inputs.get(i)[0]);
            }
        }
    }

    /** The opt-in pretouch reads every ring page while the caller already writes values into the ring. */
    @Test
    void withPretouchedRingsEveryValueStillComesBackIntact() {
        List<byte[]> inputs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            inputs.add(bytes(20 * 1024 + 31 * i, i));
        }
        try (ProcessPool pool = ProcessPool.builder().workers(2).jvmOptions("-Dprocpool.ringPretouch=true").build()) {
            assertSameValues(pool.map(x -> x, inputs, 1), inputs);
            assertSameValues(pool.map(x -> x, inputs, 10), inputs);
        }
    }

    @Test
    void aFailingTaskAndAResultTheCallerCannotRebuildBetweenRingValuesFailAlone() {
        long caller = ProcessHandle.current().pid();
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            SerializableFunction<Integer, Object> f = n -> switch (n % 4) {
                case 1 -> throw new IllegalArgumentException("one");
                case 2 -> new Picky(caller, bytes(2 * RT, n));
                default -> bytes(3 * RT, n);
            };
            List<Integer> inputs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                inputs.add(i);
            }
            Iterator<Object> lazy = pool.imap(f, inputs, 8); // chunks of 8: failures among ring values
            int failures = 0;
            for (int n = 0; n < inputs.size(); n++) {
                Object[] value = new Object[1];
                Throwable t = catchThrowable(() -> value[0] = lazy.next());
                if (n % 4 == 1) {
                    assertThat(t).as("input %d", n).isInstanceOf(TaskFailedException.class);
                    failures++;
                } else if (n % 4 == 2) {
                    assertThat(t).as("input %d", n).isInstanceOf(ProcessPoolException.class)
                            .hasMessageContaining("cannot be rebuilt");
                    failures++;
                } else {
                    assertThat(t).as("input %d", n).isNull();
                    assertThat(Arrays.equals((byte[]) value[0], bytes(3 * RT, n))).as("input %d", n).isTrue();
                }
            }
            assertThat(failures).isEqualTo(20);
            List<Object> fine = pool.map(n -> bytes(3 * RT, n), inputs, 8);
            for (int i = 0; i < inputs.size(); i++) {
                assertThat(Arrays.equals((byte[]) fine.get(i), bytes(3 * RT, i))).isTrue();
            }
            assertThat(pool.stats().workerCrashes()).isZero();
        }
    }

    @Test
    void aWorkerKilledWithRingValuesInFlightLeavesNoFileAndItsReplacementHasRingsOfItsOwn() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Set<Long> pids = new HashSet<>(FaultTestSupport.workerPids(pool));
            Throwable crash = catchThrowable(() -> pool.map(x -> {
                if (x == 5) { // its earlier results may still be in the ring, unread
                    new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                    FaultTestSupport.sleepForever();
                }
                return bytes(3 * RT, x);
            }, List.of(0, 1, 2, 3, 4, 5, 6, 7), 8));
            assertThat(crash).isInstanceOf(WorkerCrashedException.class);
            List<Integer> again = List.of(0, 1, 2, 3, 4, 6, 7);
            List<byte[]> back = pool.map(x -> bytes(3 * RT, x), again, 3);
            for (int i = 0; i < again.size(); i++) {
                assertThat(Arrays.equals(back.get(i), bytes(3 * RT, again.get(i)))).isTrue();
            }
            pids.addAll(FaultTestSupport.workerPids(pool));
            pids.add(ProcessHandle.current().pid());
            assertThat(segmentsOf(pids)).isEmpty();
        }
    }

    /** The caller is killed with SIGKILL while ring values are in flight both ways: nothing is left in /dev/shm. */
    @Test
    void afterTheCallersKill9WithRingValuesInFlightNoFileIsLeftAndItsWorkersExit(@TempDir
            Path tmp) throws Exception {
        Path running = tmp.resolve("running");
        String javaExe = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(javaExe, "-Dprocpool.ringBytes=" + RING, "-cp",
                System.getProperty("java.class.path"), Child.class.getName(), running.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Set<Long> pids = new HashSet<>(FaultTestSupport.workersPrintedBy(child, null));
            Set<Long> workers = Set.copyOf(pids);
            pids.add(child.pid());
            assertThat(segmentsOf(pids)).as("the ring files are unlinked while the caller runs").isEmpty();
            assertThat(child.toHandle().destroyForcibly()).isTrue();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(FaultTestSupport.poll(Duration.ofSeconds(5),
                    () -> workers.stream().allMatch(FaultTestSupport::isGone))).isTrue();
            assertThat(segmentsOf(pids)).isEmpty();
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The caller {@link #afterTheCallersKill9WithRingValuesInFlightNoFileIsLeftAndItsWorkersExit} kills. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            String running = args[0];
            // no spares: a spare still booting has its slot file until BOOTED, which is not what this test is about
            ProcessPool pool = ProcessPool.builder().workers(2).spareWorkers(0).build();
            List<byte[]> inputs = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                inputs.add(bytes(3 * RT, i));
            }
            pool.mapAsync(x -> { // the workers answer with ring values until one sleeps, holding more in its ring
                if (x[0] == bytes(1, 4)[0] || x[0] == bytes(1, 5)[0]) {
                    FaultTestSupport.reportPid(running);
                    FaultTestSupport.sleepForever();
                }
                return x;
            }, inputs, 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // both ready: the slot file of a worker still starting exists until it is (the sweep's case)
            while ((FaultTestSupport.readPids(Path.of(running)).isEmpty() || pool.stats().workers().size() < 2)
                    && System.nanoTime() < deadline) {
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
