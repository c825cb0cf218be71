package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.internal.worker.SharedSegments;
import dev.procpool.internal.worker.SharedValues;
import dev.procpool.testing.NoProcessLeft;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, "broadcast once" ({@code Pool.share}) in worker JVMs: each worker receives a shared value
 * once, replacement workers too; one shared-memory file per value, gone once the handle or the pool is
 * closed, and swept after the caller's kill -9. What every pool does with it is in the contract suite.
 */
@Timeout(120)
@NoProcessLeft
class ShareTest {
    @TempDir
    Path tmp;

    /** The shared-memory value files this JVM created (not the workers' running-task slots). */
    private static List<Path> mySegments() {
        return valuesOf(Set.of(ProcessHandle.current().pid()));
    }

    private static List<Path> valuesOf(Set<Long> pids) {
        return SharedMemoryTest.segmentsOf(pids).stream().filter(p -> p.toString().endsWith(".value")).toList();
    }

    private static long[] table(int n) {
        long[] t = new long[n];
        Arrays.setAll(t, i -> i * 3L + 1);
        return t;
    }

    /** What a task reports: its worker, how many shared values that worker received so far, the value's identity. */
    record Seen(long pid, int transfers, int identity, long sum) implements java.io.Serializable {}

    private static Seen seen(Object value, long sum) {
        return new Seen(ProcessHandle.current().pid(), SharedValues.transfers(), System.identityHashCode(value), sum);
    }

    @Test
    void eachWorkerReceivesTheValueOnceWhateverNumberOfTasksUseIt() {
        long[] table = table(1 << 20);
        long expected = Arrays.stream(table).sum();
        try (ProcessPool pool = ProcessPool.builder().workers(2).build();
             Shared<long[]> shared = pool.share(table)) {
            assertThat(mySegments()).as("one file for the shared value").hasSize(1);
            List<Seen> seen = pool.map((Integer i) -> {
                long[] t = shared.get();
                return seen(t, Arrays.stream(t).sum());
            }, IntStream.range(0, 40).boxed().toList(), 1);
            assertThat(seen).allSatisfy(s -> assertThat(s.sum()).isEqualTo(expected));
            Map<Long, Set<Integer>> identities = new HashMap<>();
            for (Seen s : seen) {
                assertThat(s.transfers()).as("transfers into worker %d", s.pid()).isEqualTo(1);
                identities.computeIfAbsent(s.pid(), p -> new HashSet<>()).add(s.identity());
            }
            assertThat(identities.values()).as("one copy per worker, used by all its tasks")
                    .allSatisfy(ids -> assertThat(ids).hasSize(1));
        }
    }

    @Test
    void aSharedByteBufferIsTheReadOnlyMappingAndOtherValuesAreDecodedOnce() {
        byte[] bytes = new byte[3 << 20];
        Arrays.fill(bytes, (byte) 5);
        try (ProcessPool pool = ProcessPool.builder().workers(1).build();
             Shared<ByteBuffer> buffer = pool.share(ByteBuffer.wrap(bytes));
             Shared<Map<String, List<Integer>>> map = pool.share(Map.of("a", List.of(1, 2), "b", List.of(3)))) {
            String got = pool.apply((Integer i) -> {
                ByteBuffer b = buffer.get();
                return b.isReadOnly() + " " + b.isDirect() + " " + b.remaining() + " " + b.get(i) + " "
                        + map.get().get("a") + " " + (map.get() == map.get()) + " " + SharedValues.transfers();
            }, 7);
            assertThat(got).isEqualTo("true true " + (3 << 20) + " 5 [1, 2] true 2");
        }
    }

    @Test
    void replacementWorkersReceiveItAfterACrashAndAfterRecycling() {
        long[] table = table(1 << 18);
        try (ProcessPool pool = ProcessPool.builder().workers(1).maxTasksPerWorker(2).build();
             Shared<long[]> shared = pool.share(table)) {
            List<Seen> recycled = pool.map((Integer i) -> seen(shared.get(), shared.get()[i]),
                    IntStream.range(0, 6).boxed().toList(), 1);
            assertThat(recycled.stream().map(Seen::pid).distinct().count()).as("workers recycled every 2 tasks").isEqualTo(3);
            assertThat(recycled).allSatisfy(s -> assertThat(s.transfers()).isEqualTo(1));
            assertThat(recycled.stream().map(Seen::sum).toList()).containsExactly(1L, 4L, 7L, 10L, 13L, 16L);

            Throwable crash = catchThrowable(() -> pool.apply((Integer i) -> {
                shared.get();
                Runtime.getRuntime().halt(3);
                return 0L;
            }, 0));
            assertThat(crash).isInstanceOf(WorkerCrashedException.class);
            assertThat(mySegments()).as("a worker's crash leaves the shared file to its owner").hasSize(1);
            Seen after = pool.apply((Integer i) -> seen(shared.get(), shared.get()[i]), 100);
            assertThat(after.sum()).isEqualTo(301L);
            assertThat(after.transfers()).isEqualTo(1);
            assertThat(after.pid()).isNotIn(recycled.stream().map(Seen::pid).toList());
        }
    }

    @Test
    void closingTheHandleDeletesTheFileAndWorkersThatHadItDropIt() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Shared<long[]> shared = pool.share(table(1000));
            assertThat(mySegments()).hasSize(1);
            long first = pool.apply((Integer i) -> shared.get()[i], 1);
            assertThat(first).isEqualTo(4L);
            shared.close();
            assertThat(mySegments()).as("gone with the handle").isEmpty();
            Throwable thrown = catchThrowable(() -> pool.apply((Integer i) -> shared.get()[i], 1));
            assertThat(thrown).as("the worker had it cached, and was told").isInstanceOf(TaskFailedException.class);
            assertThat(thrown.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void closingOrTerminatingThePoolDeletesItsSharedFiles() {
        ProcessPool closed = ProcessPool.builder().workers(1).build();
        Shared<byte[]> a = closed.share(new byte[4 << 20]);
        closed.share("never closed by hand");
        assertThat(mySegments()).hasSize(2);
        closed.close();
        assertThat(mySegments()).isEmpty();
        assertThat(catchThrowable(a::get)).isInstanceOf(IllegalStateException.class);

        ProcessPool terminated = ProcessPool.builder().workers(1).build();
        Shared<byte[]> b = terminated.share(new byte[4 << 20]);
        terminated.apply((Integer i) -> (int) b.get()[i], 0);
        terminated.terminate();
        assertThat(mySegments()).isEmpty();
    }

    @Test
    void inThreadModeTasksGetTheVeryObject() {
        long[] table = table(10);
        try (ProcessPool pool = ProcessPool.builder().workers(2).mode(PoolMode.THREADS).build();
             Shared<long[]> shared = pool.share(table)) {
            List<long[]> seen = pool.map((Integer i) -> shared.get(), List.of(0, 1, 2, 3), 1);
            assertThat(seen).allSatisfy(t -> assertThat(t).isSameAs(table));
            assertThat(mySegments()).as("no file in thread mode").isEmpty();
        }
    }

    @Test
    void aValueThatCannotBeSerializedFailsShareAtOnce() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            Throwable thrown = catchThrowable(() -> pool.share(new Thread()));
            assertThat(thrown).isInstanceOf(ProcessPoolException.class).hasMessageContaining("cannot share");
            assertThat(mySegments()).isEmpty();
        }
    }

    /** The caller dies by kill -9 with a value shared: the next pool sweeps its file. */
    @Test
    void afterTheCallersKill9TheNextPoolSweepsItsSharedFile() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path childErr = tmp.resolve("child-stderr.txt");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Child.class.getName())
                .redirectError(childErr.toFile()).start();
        try {
            Set<Long> workers = FaultTestSupport.workersPrintedBy(child, childErr);
            Set<Long> caller = Set.of(child.pid());
            assertThat(valuesOf(caller)).as("the caller's shared file").hasSize(1);
            assertThat(child.toHandle().destroyForcibly()).isTrue();
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(FaultTestSupport.poll(Duration.ofSeconds(5), () -> workers.stream().allMatch(FaultTestSupport::isGone)))
                    .isTrue();
            // no check that the kill left it: any pool started meanwhile by any JVM on this machine sweeps it
            try (ProcessPool next = ProcessPool.builder().workers(1).build()) {
                int two = next.apply((Integer x) -> x + 1, 1);
                assertThat(two).isEqualTo(2);
            }
            assertThat(valuesOf(caller)).as("swept by the next pool").isEmpty();
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The caller {@link #afterTheCallersKill9TheNextPoolSweepsItsSharedFile} kills: shares, uses, waits. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            ProcessPool pool = ProcessPool.builder().workers(2).build();
            Shared<long[]> shared = pool.share(table(1 << 20));
            pool.map((Integer i) -> shared.get()[i], List.of(0, 1, 2, 3), 1); // the workers hold it
            System.out.println("WORKERS " + String.join(" ", pool.stats().workers().stream()
                    .map(w -> Long.toString(w.pid())).toList()));
            System.out.flush();
            Thread.sleep(120_000);
            pool.terminate();
        }
    }
}
