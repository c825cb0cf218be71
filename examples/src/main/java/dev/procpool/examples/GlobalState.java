package dev.procpool.examples;

import dev.procpool.PoolMode;
import dev.procpool.ProcessPool;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Code that is not thread-safe, run in parallel. {@link LegacyFormatter} stands in for an old library
 * with global static state (one shared buffer, no locks). On threads the workers overwrite each
 * other's buffer and results come out wrong; with worker JVMs each worker has its own copy of the
 * static state and every result is right.
 *
 * <pre>
 * java -cp examples/target/procpool-examples.jar dev.procpool.examples.GlobalState
 * </pre>
 */
public final class GlobalState {
    private GlobalState() {}

    /** An old-style formatter: one static buffer reused by every call, without any locking. */
    static final class LegacyFormatter {
        private static final StringBuilder BUFFER = new StringBuilder();

        private LegacyFormatter() {}

        static String format(int id) {
            BUFFER.setLength(0);
            for (int i = 0; i < 20; i++) {
                BUFFER.append(id).append(',');
            }
            return BUFFER.toString();
        }
    }

    /** Formats {@code id} many times and returns how many results were wrong (or threw). */
    static int wrongFormats(int id) {
        String expected = (id + ",").repeat(20);
        int wrong = 0;
        for (int round = 0; round < 20_000; round++) {
            try {
                if (!LegacyFormatter.format(id).equals(expected)) {
                    wrong++;
                }
            } catch (RuntimeException raceDamage) { // e.g. an index out of bounds inside the StringBuilder
                wrong++;
            }
        }
        return wrong;
    }

    public static void main(String[] args) {
        List<Integer> ids = IntStream.range(0, 40).boxed().toList();
        System.out.println("40 tasks, each formats its id 20,000 times with a formatter that has one static buffer");
        for (PoolMode mode : List.of(PoolMode.THREADS, PoolMode.PROCESSES)) {
            try (ProcessPool pool = ProcessPool.builder().workers(2).mode(mode).build()) {
                long start = System.nanoTime();
                List<Integer> wrongPerTask = pool.map(GlobalState::wrongFormats, ids, 1);
                long millis = (System.nanoTime() - start) / 1_000_000;
                int wrong = wrongPerTask.stream().mapToInt(Integer::intValue).sum();
                System.out.printf("%-9s (2 workers): %,7d wrong results out of %,d, %d ms%s%n", pool.mode(), wrong,
                        ids.size() * 20_000, millis,
                        wrong == 0 ? "" : "  <- the workers share one static buffer");
            }
        }
    }
}
