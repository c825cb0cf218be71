package dev.procpool.examples;

import dev.procpool.PoolStats;
import dev.procpool.ProcessPool;
import dev.procpool.TaskTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.stream.IntStream;

/**
 * A hard time limit per task. One task never ends (an infinite loop, which no thread interrupt could
 * stop); with {@code taskTimeout(1 s)} its worker JVM is killed, that task fails with
 * {@link TaskTimeoutException}, a replacement worker starts and the other tasks complete.
 *
 * <pre>
 * java -cp examples/target/procpool-examples.jar dev.procpool.examples.TaskTimeout
 * </pre>
 */
public final class TaskTimeout {
    private static final int RUNAWAY_INPUT = 3;

    private TaskTimeout() {}

    /** Takes about 100 ms, except for one input, which spins forever. */
    static int slowSquare(int x) {
        if (x == RUNAWAY_INPUT) {
            long spins = 0;
            while (true) {
                spins++; // runaway: ignores interrupts, never returns
            }
        }
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return x * x;
    }

    public static void main(String[] args) throws Exception {
        List<Integer> inputs = IntStream.range(0, 8).boxed().toList();

        try (ProcessPool pool = ProcessPool.builder().workers(2).taskTimeout(Duration.ofSeconds(1)).build()) {
            System.out.println("1. pool.map(slowSquare, 0..7) with taskTimeout(1 s); input " + RUNAWAY_INPUT
                    + " loops forever");
            long start = System.nanoTime();
            try {
                pool.map(TaskTimeout::slowSquare, inputs);
                System.out.println("   unexpected: the map succeeded");
            } catch (TaskTimeoutException e) {
                System.out.printf("   caught TaskTimeoutException after %.1f s: input index %d, limit %s%n",
                        seconds(start), e.inputIndex(), e.timeout());
            }

            System.out.println("2. the same inputs submitted one by one: the runaway fails, the rest complete");
            start = System.nanoTime();
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int x : inputs) {
                futures.add(pool.submit(() -> slowSquare(x)));
            }
            for (int i = 0; i < futures.size(); i++) {
                try {
                    System.out.println("   input " + i + " -> " + futures.get(i).get());
                } catch (ExecutionException e) {
                    TaskTimeoutException timeout = (TaskTimeoutException) e.getCause();
                    System.out.println("   input " + i + " -> TaskTimeoutException, limit " + timeout.timeout()
                            + " (its worker was killed)");
                }
            }
            System.out.printf("   all answers in %.1f s%n", seconds(start));

            awaitLiveWorkers(pool, 2);
            PoolStats stats = pool.stats();
            System.out.println("3. stats: " + stats.taskTimeouts() + " timeouts, " + stats.workerCrashes()
                    + " workers killed, " + stats.workersStarted() + " workers started in all, "
                    + stats.workers().size() + " live, " + stats.tasksSucceeded() + " tasks succeeded");
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Waits (at most 5 s) until the pool has {@code count} live workers: replacements take a moment to start. */
    static void awaitLiveWorkers(ProcessPool pool, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (pool.stats().workers().size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }
}
