package dev.procpool.examples;

import dev.procpool.PoolMode;
import dev.procpool.ProcessPool;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Code that is not thread-safe, run in parallel. {@link LegacyReport} stands in for an old library
 * with global static state: one shared buffer, no locks. On threads the workers write into each
 * other's buffer and reports come out wrong; with worker JVMs every worker has its own copy of the
 * static state and every report is right.
 *
 * <pre>
 * java -cp examples/target/procpool-examples.jar dev.procpool.examples.GlobalState
 * </pre>
 */
public final class GlobalState {
    private static final int TASKS = 40;
    private static final int REPORTS_PER_TASK = 20;

    private GlobalState() {}

    /** An old-style library: every call reuses one static buffer, without any locking. */
    static final class LegacyReport {
        private static final StringBuilder BUFFER = new StringBuilder();

        private LegacyReport() {}

        static String render(int id) {
            BUFFER.setLength(0);
            BUFFER.append("report #").append(id);
            slowLookup(); // the library does some I/O halfway through (a 1 ms sleep stands in for it)
            BUFFER.append(": ok");
            return BUFFER.toString();
        }

        private static void slowLookup() {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Renders the report for {@code id} several times and returns how many came out wrong (or threw). */
    static int wrongReports(int id) {
        String expected = "report #" + id + ": ok";
        int wrong = 0;
        for (int round = 0; round < REPORTS_PER_TASK; round++) {
            try {
                if (!LegacyReport.render(id).equals(expected)) {
                    wrong++;
                }
            } catch (RuntimeException raceDamage) { // e.g. an index out of bounds inside the StringBuilder
                wrong++;
            }
        }
        return wrong;
    }

    /** One report as this JVM renders it, to show what the shared buffer does to it. */
    static String sample(int id) {
        return LegacyReport.render(id);
    }

    public static void main(String[] args) {
        List<Integer> ids = IntStream.range(0, TASKS).boxed().toList();
        System.out.printf("%d tasks, each renders its report %d times with a library that keeps one static buffer%n",
                TASKS, REPORTS_PER_TASK);
        for (PoolMode mode : List.of(PoolMode.THREADS, PoolMode.PROCESSES)) {
            try (ProcessPool pool = ProcessPool.builder().workers(2).mode(mode).build()) {
                long start = System.nanoTime();
                List<Integer> wrongPerTask = pool.map(GlobalState::wrongReports, ids, 1);
                long millis = (System.nanoTime() - start) / 1_000_000;
                int wrong = wrongPerTask.stream().mapToInt(Integer::intValue).sum();
                List<String> samples = pool.map(GlobalState::sample, List.of(1, 2), 1);
                System.out.printf("%-9s (2 workers): %3d of %d reports wrong, %4d ms; reports for 1 and 2: %s%n",
                        pool.mode(), wrong, TASKS * REPORTS_PER_TASK, millis, samples);
            }
        }
    }
}
