package dev.procpool.examples;

import dev.procpool.PoolMode;
import dev.procpool.ProcessPool;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The same code on a pool of threads and on a pool of worker JVMs: one builder option apart, the same
 * results. Threads start at once and pass inputs by reference; worker JVMs cost a start (a few hundred
 * ms) and copy inputs and results, and give isolation, hard time limits and separate heaps in return.
 *
 * <pre>
 * java -cp examples/target/procpool-examples.jar dev.procpool.examples.ThreadsVsProcesses
 * </pre>
 */
public final class ThreadsVsProcesses {
    private ThreadsVsProcesses() {}

    /** SHA-256 applied 30,000 times to a seed: CPU-bound and the same on every JVM. */
    static String hashChain(int seed) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] value = ("seed-" + seed).getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 30_000; i++) {
            value = sha.digest(value);
        }
        return HexFormat.of().formatHex(value, 0, 6);
    }

    public static void main(String[] args) {
        List<Integer> seeds = IntStream.range(0, 32).boxed().toList();
        List<String> reference = null;
        for (PoolMode mode : List.of(PoolMode.THREADS, PoolMode.PROCESSES, PoolMode.AUTO)) {
            long start = System.nanoTime();
            try (ProcessPool pool = ProcessPool.builder().workers(2).mode(mode).build()) {
                List<String> results = pool.map(ThreadsVsProcesses::hashChain, seeds);
                long millis = (System.nanoTime() - start) / 1_000_000; // build() + map(): includes starting workers
                if (reference == null) {
                    reference = results;
                }
                System.out.printf("mode(%-9s) pool.mode() = %-9s build + map: %,5d ms   results %s  same as threads: %s%n",
                        mode, pool.mode(), millis, results.subList(0, 3) + "...", results.equals(reference));
            }
        }
    }
}
