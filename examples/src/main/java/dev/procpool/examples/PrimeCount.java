package dev.procpool.examples;

import dev.procpool.ProcessPool;
import dev.procpool.ProgressListener;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Counts the primes below N, by naive trial division, for many N at once in worker JVMs, and compares
 * with the same work done sequentially in this JVM.
 *
 * <pre>
 * java -jar examples/target/procpool-examples.jar [largestN] [howManyN]
 * </pre>
 */
public final class PrimeCount {
    private PrimeCount() {}

    /** The number of primes below {@code n}, by trial division: slow on purpose, CPU-bound. */
    static int countPrimes(int n) {
        int count = 0;
        for (int candidate = 2; candidate < n; candidate++) {
            if (isPrime(candidate)) {
                count++;
            }
        }
        return count;
    }

    private static boolean isPrime(int candidate) {
        if (candidate < 4) {
            return candidate >= 2;
        }
        if (candidate % 2 == 0) {
            return false;
        }
        for (int divisor = 3; (long) divisor * divisor <= candidate; divisor += 2) {
            if (candidate % divisor == 0) {
                return false;
            }
        }
        return true;
    }

    public static void main(String[] args) {
        double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(); // -1 if unknown
        int cores = Runtime.getRuntime().availableProcessors();
        int largest = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        int howMany = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        List<Integer> limits = new ArrayList<>();
        for (int i = 1; i <= howMany; i++) {
            limits.add((int) ((long) largest * i / howMany));
        }
        System.out.printf("Counting primes below %d values of N, from %,d to %,d (trial division)%n",
                howMany, limits.get(0), largest);

        boolean same;
        // progress: a live "done/total, rate, ETA" line on stderr while the map runs
        try (ProcessPool pool = ProcessPool.builder().progress(ProgressListener.console()).build()) {
            long t0 = System.nanoTime();
            awaitWorkersReady(pool); // so that the map below times only the work
            long startMillis = millisSince(t0);

            long t1 = System.nanoTime();
            // chunk size 1: the N differ in cost, so each worker takes one N at a time
            List<Integer> parallel = pool.map(PrimeCount::countPrimes, limits, 1);
            long parallelMillis = millisSince(t1);

            long t2 = System.nanoTime();
            List<Integer> sequential = new ArrayList<>();
            for (int n : limits) {
                sequential.add(countPrimes(n));
            }
            long sequentialMillis = millisSince(t2);

            System.out.printf("primes below %,d: %,d%n", largest, parallel.get(parallel.size() - 1));
            System.out.printf("all counts:       %s%n", parallel);
            System.out.printf("pool: %d worker JVMs (%s), ready in %d ms%n", pool.workers(), pool.mode(), startMillis);
            System.out.printf("parallel map:     %,6d ms%n", parallelMillis);
            System.out.printf("sequential loop:  %,6d ms (same JVM)%n", sequentialMillis);
            System.out.printf("speedup:          %.2fx (%.2fx counting the pool's start)%n",
                    (double) sequentialMillis / Math.max(1, parallelMillis),
                    (double) sequentialMillis / Math.max(1, parallelMillis + startMillis));
            if (loadBefore > 0.5 * cores) {
                System.out.printf("note: the load average before the run was %.1f on %d cores: other programs"
                        + " share the CPUs, so these times and the speedup are noisy%n", loadBefore, cores);
            }
            same = parallel.equals(sequential);
            System.out.println(same ? "parallel and sequential results are identical"
                    : "MISMATCH: the sequential loop gave " + sequential);
        } // close(): the workers stop, the pool waits for them
        if (!same) {
            System.exit(1);
        }
    }

    /** Waits (at most 30 s) until every worker JVM of the pool is up. */
    private static void awaitWorkersReady(ProcessPool pool) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (pool.stats().workers().size() < pool.workers() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
