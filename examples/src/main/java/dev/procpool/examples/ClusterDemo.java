package dev.procpool.examples;

import dev.procpool.cluster.ClusterPool;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/**
 * Starts two cluster members on this machine (separate JVMs, as they would be on two machines),
 * maps a function across them from a client, and prints which member ran how much.
 *
 * <pre>mvn -q -pl examples -am compile exec:exec -Dexample=dev.procpool.examples.ClusterDemo</pre>
 */
public final class ClusterDemo {
    private ClusterDemo() {}

    /** Counts primes below n the slow way, and says which member's worker did it. */
    static String countPrimes(long n) {
        long count = LongStream.range(2, n).filter(ClusterDemo::isPrime).count();
        return System.getenv("PROCPOOL_MEMBER") + " " + count;
    }

    static boolean isPrime(long x) {
        for (long d = 2; d * d <= x; d++) {
            if (x % d == 0) {
                return false;
            }
        }
        return true;
    }

    public static void main(String[] args) throws Exception {
        try (LocalMembers members = new LocalMembers(2, 1);
                ClusterPool pool = ClusterPool.builder().members(members.addresses()).build()) {
            System.out.println("members: " + pool.members() + ", " + pool.workers() + " worker JVMs");
            List<Long> inputs = LongStream.rangeClosed(1, 40).map(i -> i * 5_000).boxed().toList();
            long start = System.nanoTime();
            List<String> results = pool.map(ClusterDemo::countPrimes, inputs, 1);
            long millis = (System.nanoTime() - start) / 1_000_000;
            Map<String, Long> perMember = new TreeMap<>(results.stream()
                    .collect(Collectors.groupingBy(r -> r.substring(0, r.indexOf(' ')), Collectors.counting())));
            System.out.printf("primes below %d: %s (%d ms)%n", inputs.get(inputs.size() - 1),
                    results.get(results.size() - 1).split(" ")[1], millis);
            perMember.forEach((member, n) -> System.out.printf("  %-18s ran %2d of %d inputs%n", member, n, inputs.size()));
        }
    }
}
