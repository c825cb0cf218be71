package dev.procpool.examples;

import dev.procpool.PoolStats;
import dev.procpool.ProcessPool;
import dev.procpool.WorkerCrashedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.IntStream;

/**
 * One input kills its worker JVM with {@code System.exit(3)}. The caller survives: the map fails with
 * a {@link WorkerCrashedException} naming that input and the exit code, a replacement worker starts,
 * and the same pool keeps serving. Submitting inputs one by one shows that every other result was
 * computed; {@code retries(n)} re-runs a task whose worker crashed.
 *
 * <pre>
 * java -cp examples/target/procpool-examples.jar dev.procpool.examples.CrashIsolation
 * </pre>
 */
public final class CrashIsolation {
    private static final int CRASHING_INPUT = 7;

    private CrashIsolation() {}

    /** Squares its input, except that one input takes its whole JVM down. */
    static int square(int x) {
        if (x == CRASHING_INPUT) {
            System.err.println("input " + x + ": calling System.exit(3) in the worker");
            System.exit(3);
        }
        return x * x;
    }

    public static void main(String[] args) throws Exception {
        List<Integer> inputs = IntStream.range(0, 10).boxed().toList();

        try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
            System.out.println("1. pool.map(square, 0..9), where input " + CRASHING_INPUT + " calls System.exit(3)");
            try {
                pool.map(CrashIsolation::square, inputs);
                System.out.println("   unexpected: the map succeeded");
            } catch (WorkerCrashedException e) {
                System.out.println("   caught WorkerCrashedException: input index " + e.inputIndex()
                        + ", exit code " + e.exitCode());
                System.out.println("   worker's last stderr lines: " + e.lastStderrLines());
            }
            System.out.println("   the caller is still running (pid " + ProcessHandle.current().pid() + ")");

            System.out.println("2. the same inputs submitted one by one, each failure caught on its own:");
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int x : inputs) {
                futures.add(pool.submit(() -> square(x)));
            }
            for (int i = 0; i < futures.size(); i++) {
                try {
                    System.out.println("   input " + i + " -> " + futures.get(i).get());
                } catch (ExecutionException e) {
                    WorkerCrashedException crash = (WorkerCrashedException) e.getCause();
                    System.out.println("   input " + i + " -> worker crashed, exit code " + crash.exitCode());
                }
            }

            List<Integer> safe = inputs.stream().filter(x -> x != CRASHING_INPUT).toList();
            System.out.println("3. the same pool again, without the crashing input: " + pool.map(CrashIsolation::square, safe));
            awaitLiveWorkers(pool, 2);
            PoolStats stats = pool.stats();
            System.out.println("   stats: " + stats.workerCrashes() + " worker crashes, " + stats.workersStarted()
                    + " workers started in all, " + stats.workers().size() + " live");
        }

        System.out.println("4. a crash that happens only the first time, on a pool built with retries(1):");
        Path marker = Files.createTempFile("procpool-crash-once", ".marker");
        Files.delete(marker);
        String markerPath = marker.toString(); // captured by the lambda: a String travels to the worker as is
        try (ProcessPool pool = ProcessPool.builder().workers(2).retries(1).build()) {
            List<Integer> squares = pool.map(x -> crashOnce(x, markerPath), inputs);
            System.out.println("   all results: " + squares + " (" + pool.stats().tasksRetried() + " task retried)");
        } finally {
            Files.deleteIfExists(marker);
        }
    }

    /** Crashes the worker the first time it sees the crashing input (a marker file remembers), then works. */
    static int crashOnce(int x, String markerPath) {
        if (x == CRASHING_INPUT) {
            try {
                Files.createFile(Path.of(markerPath));
                System.err.println("input " + x + ": first attempt, calling System.exit(3) in the worker");
                System.exit(3);
            } catch (IOException alreadyCrashedOnce) {
                // the marker exists: this is the retry
            }
        }
        return x * x;
    }

    /** Waits (at most 5 s) until the pool has {@code count} live workers: replacements take a moment to start. */
    static void awaitLiveWorkers(ProcessPool pool, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (pool.stats().workers().size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }
}
