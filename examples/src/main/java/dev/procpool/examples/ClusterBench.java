package dev.procpool.examples;

import dev.procpool.ProcessPool;
import dev.procpool.cluster.ClusterPool;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * ClusterPool against the local ProcessPool on the same machine, the same number of worker JVMs
 * (two members with one worker each against a local pool of two): per-chunk overhead (chunks of one
 * trivial task), one apply() round trip, throughput of trivial tasks with the default chunking, and a
 * CPU-bound map.
 */
public final class ClusterBench {
    private ClusterBench() {}

    interface Pool {
        <T, R> List<R> map(dev.procpool.SerializableFunction<? super T, ? extends R> f, List<T> in, int chunk);

        <T, R> R apply(dev.procpool.SerializableFunction<? super T, ? extends R> f, T in);
    }

    static long spin(int millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long n = 0;
        while (System.nanoTime() < end) {
            n++;
        }
        return n;
    }

    static void run(String name, Pool pool) {
        List<Integer> warm = IntStream.range(0, 2000).boxed().toList();
        pool.map((Integer x) -> x + 1, warm, 1); // warm up JITs and connections
        pool.map((Integer x) -> x + 1, warm, 1);

        int chunks = 2000;
        long t = System.nanoTime();
        pool.map((Integer x) -> x + 1, IntStream.range(0, chunks).boxed().toList(), 1);
        double perChunkUs = (System.nanoTime() - t) / 1000.0 / chunks;

        int calls = 200;
        t = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            pool.apply((Integer x) -> x + 1, i);
        }
        double applyUs = (System.nanoTime() - t) / 1000.0 / calls;

        List<Integer> many = IntStream.range(0, 1_000_000).boxed().toList();
        pool.map((Integer x) -> x + 1, many, 0);
        t = System.nanoTime();
        pool.map((Integer x) -> x + 1, many, 0);
        double perSecond = many.size() / ((System.nanoTime() - t) / 1e9);

        List<Integer> cpu = IntStream.range(0, 40).boxed().toList();
        t = System.nanoTime();
        pool.map((Integer x) -> spin(50), cpu, 1);
        long cpuMs = (System.nanoTime() - t) / 1_000_000;

        System.out.printf("%-8s per chunk (size 1, pipelined) %7.0f us | apply round trip %7.0f us | "
                + "trivial tasks %,10.0f /s | 40 x 50 ms CPU %5d ms (ideal 1000)%n", name, perChunkUs, applyUs,
                perSecond, cpuMs);
    }

    public static void main(String[] args) throws Exception {
        try (ProcessPool local = ProcessPool.builder().workers(2).build()) {
            run("local", adapt(local::map, local::apply));
        }
        try (LocalMembers members = new LocalMembers(2, 1);
                ClusterPool cluster = ClusterPool.builder().members(members.addresses()).build()) {
            run("cluster", adapt(cluster::map, cluster::apply));
        }
    }

    interface MapCall {
        <T, R> List<R> map(dev.procpool.SerializableFunction<? super T, ? extends R> f, Iterable<? extends T> in, int c);
    }

    interface ApplyCall {
        <T, R> R apply(dev.procpool.SerializableFunction<? super T, ? extends R> f, T in);
    }

    static Pool adapt(MapCall map, ApplyCall apply) {
        return new Pool() {
            @Override
            public <T, R> List<R> map(dev.procpool.SerializableFunction<? super T, ? extends R> f, List<T> in, int c) {
                return map.map(f, in, c);
            }

            @Override
            public <T, R> R apply(dev.procpool.SerializableFunction<? super T, ? extends R> f, T in) {
                return apply.apply(f, in);
            }
        };
    }
}
