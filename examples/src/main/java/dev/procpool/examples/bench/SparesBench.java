package dev.procpool.examples.bench;

import static dev.procpool.examples.bench.PoolBench.W;
import static dev.procpool.examples.bench.PoolBench.emit;
import static dev.procpool.examples.bench.PoolBench.median;
import static dev.procpool.examples.bench.PoolBench.note;
import static dev.procpool.examples.bench.PoolBench.now;
import static dev.procpool.examples.bench.PoolBench.rounded;

import dev.procpool.PoolMode;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Section {@code spares} of {@link PoolBench} (issue 15, no Python twin: its rows sit beside Python's fork
 * start-up): what spare worker JVMs buy, each case with spares (the default) and without
 * ({@code spareWorkers(0)}), the two interleaved round by round.
 * <ul>
 *   <li>{@code second_pool_ready}: a pool of W was used and closed, then a second pool with the same
 *       settings is built; from {@code build()} until W distinct workers answered a barrier task, as in
 *       startup's {@code all_workers_ready}. {@code _first}: the first round, in this fresh JVM.
 *       {@code second_pool_handshake}: in the same rounds, from {@code build()} until {@code stats()}
 *       shows W ready workers (taken, initializer run, READY received), before the barrier tasks.</li>
 *   <li>{@code crash_back_to_ready}: a ready worker of a pool of W gets SIGKILL; from the kill until
 *       {@code stats()} shows W ready workers again, the dead one not among them (polled every 0.1 ms).</li>
 *   <li>{@code recycle_back_to_ready}: in a pool of W with {@code maxTasksPerWorker(1)}, one task runs;
 *       from its result's return until {@code stats()} shows W ready workers, the recycled one not among
 *       them.</li>
 *   <li>{@code rss_per_spare_mib}: VmRSS of an idle spare (booted, no pool's code run), beside that of a
 *       ready worker that ran a small map.</li>
 * </ul>
 * Before each measurement the spares of the previous one are booted, so no JVM starts in the background
 * during it.
 */
final class SparesBench {
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(60);

    private SparesBench() {}

    static void run(PoolBench.Cfg cfg) {
        int rounds = cfg.quick ? 3 : 7;
        note("spares: W=" + W + ", " + rounds + " rounds, with and without spares interleaved (the order alternates)");
        List<Double> secondOn = new ArrayList<>();
        List<Double> secondOff = new ArrayList<>();
        List<Double> handshakeOn = new ArrayList<>();
        List<Double> handshakeOff = new ArrayList<>();
        List<Double> crashOn = new ArrayList<>();
        List<Double> crashOff = new ArrayList<>();
        List<Double> recycleOn = new ArrayList<>();
        List<Double> recycleOff = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (boolean spares : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                double[] t = secondPoolReady(spares);
                (spares ? handshakeOn : handshakeOff).add(t[0]);
                (spares ? secondOn : secondOff).add(t[1]);
            }
        }
        for (int round = 0; round < rounds; round++) {
            for (boolean spares : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                (spares ? crashOn : crashOff).add(crashBackToReady(spares));
            }
        }
        for (int round = 0; round < rounds; round++) {
            for (boolean spares : round % 2 == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                (spares ? recycleOn : recycleOff).add(recycleBackToReady(spares));
            }
        }
        emit("spares.procpool.second_pool_ready", median(secondOn) * 1e3, "ms");
        emit("spares.procpool.second_pool_ready_first", secondOn.get(0) * 1e3, "ms");
        emit("spares.procpool_nospares.second_pool_ready", median(secondOff) * 1e3, "ms");
        note("  second_pool_ready samples ms: spares=" + rounded(secondOn, 1e3, 2) + " none=" + rounded(secondOff, 1e3, 1));
        emit("spares.procpool.second_pool_handshake", median(handshakeOn) * 1e3, "ms");
        emit("spares.procpool_nospares.second_pool_handshake", median(handshakeOff) * 1e3, "ms");
        note("  second_pool_handshake (build() until stats() shows W ready workers, before any task) samples ms: spares="
                + rounded(handshakeOn, 1e3, 2) + " none=" + rounded(handshakeOff, 1e3, 1));
        emit("spares.procpool.crash_back_to_ready", median(crashOn) * 1e3, "ms");
        emit("spares.procpool_nospares.crash_back_to_ready", median(crashOff) * 1e3, "ms");
        note("  crash_back_to_ready samples ms: spares=" + rounded(crashOn, 1e3, 2) + " none=" + rounded(crashOff, 1e3, 1));
        emit("spares.procpool.recycle_back_to_ready", median(recycleOn) * 1e3, "ms");
        emit("spares.procpool_nospares.recycle_back_to_ready", median(recycleOff) * 1e3, "ms");
        note("  recycle_back_to_ready samples ms: spares=" + rounded(recycleOn, 1e3, 2) + " none=" + rounded(recycleOff, 1e3, 1));
        memory();
    }

    private static ProcessPool pool(boolean spares) {
        return builder(spares).build();
    }

    private static ProcessPool.Builder builder(boolean spares) {
        ProcessPool.Builder builder = ProcessPool.builder().workers(W).jvmOptions(PoolBench.workerJvmOptions());
        if (!spares) {
            builder.spareWorkers(0);
        }
        return builder;
    }

    /** Waits until the pool has W ready workers and, with spares, W booted spares. */
    private static void settle(ProcessPool pool, boolean spares) {
        await(() -> pool.stats().workers().size() == W && (!spares || pool.stats().spares().size() == W),
                () -> "W workers and spares: " + pool.stats());
    }

    /** {until stats() shows W ready workers, until W workers answered a barrier task}, both from build(). */
    private static double[] secondPoolReady(boolean spares) {
        try (ProcessPool first = pool(spares)) {
            settle(first, spares);
            PoolBench.check(first.map(x -> x + 1, List.of(1, 2)).equals(List.of(2, 3)), "first pool works");
        }
        double handshake;
        double took;
        ProcessPool second;
        try (PoolBench.SocketBarrier barrier = new PoolBench.SocketBarrier(W, true)) {
            Set<String> served = new HashSet<>();
            double t0 = now();
            second = pool(spares);
            while (second.stats().workers().size() < W) {
                if (now() - t0 > 60) {
                    throw new IllegalStateException("not ready: " + second.stats());
                }
                LockSupport.parkNanos(100_000);
            }
            handshake = now() - t0;
            PoolBench.awaitAllWorkers(second, barrier, PoolMode.PROCESSES, served);
            took = now() - t0;
            PoolBench.check(served.size() == W, "W distinct workers answered: " + served);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        settle(second, spares); // its own spares boot before the next measurement
        second.close();
        return new double[] {handshake, took};
    }

    private static double crashBackToReady(boolean spares) {
        try (ProcessPool pool = pool(spares)) {
            settle(pool, spares);
            long victim = pool.stats().workers().get(0).pid();
            long t0 = System.nanoTime();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();
            while (true) {
                List<PoolStats.Worker> workers = pool.stats().workers();
                if (workers.size() == W && workers.stream().noneMatch(w -> w.pid() == victim)) {
                    break;
                }
                if (System.nanoTime() - t0 > WAIT_NANOS) {
                    throw new IllegalStateException("not back to W workers: " + pool.stats());
                }
                LockSupport.parkNanos(100_000);
            }
            double took = (System.nanoTime() - t0) / 1e9;
            PoolBench.check(pool.stats().workerCrashes() == 1, "one crash counted: " + pool.stats());
            settle(pool, spares);
            return took;
        }
    }

    private static double recycleBackToReady(boolean spares) {
        try (ProcessPool pool = builder(spares).maxTasksPerWorker(1).build()) {
            settle(pool, spares);
            long recycled = pool.apply(x -> ProcessHandle.current().pid(), 0);
            long t0 = System.nanoTime();
            while (true) {
                List<PoolStats.Worker> workers = pool.stats().workers();
                if (workers.size() == W && workers.stream().noneMatch(w -> w.pid() == recycled)) {
                    break;
                }
                if (System.nanoTime() - t0 > WAIT_NANOS) {
                    throw new IllegalStateException("not back to W workers: " + pool.stats());
                }
                LockSupport.parkNanos(100_000);
            }
            double took = (System.nanoTime() - t0) / 1e9;
            await(() -> pool.stats().workersRecycled() == 1, () -> "one recycled: " + pool.stats());
            settle(pool, spares);
            return took;
        }
    }

    private static void memory() {
        try (ProcessPool pool = pool(true)) {
            settle(pool, true);
            pool.map(x -> x + 1, List.of(1, 2, 3, 4), 1);
            List<Double> spareRss = new ArrayList<>();
            for (PoolStats.Worker spare : pool.stats().spares()) {
                spareRss.add(rssMib(spare.pid()));
            }
            List<Double> workerRss = new ArrayList<>();
            for (PoolStats.Worker worker : pool.stats().workers()) {
                workerRss.add(rssMib(worker.pid()));
            }
            emit("spares.procpool.rss_per_spare_mib", median(spareRss), "MiB");
            emit("spares.procpool.rss_per_worker_mib", median(workerRss), "MiB");
            note("  RSS MiB: spares=" + rounded(spareRss, 1, 1) + " workers (after a small map)=" + rounded(workerRss, 1, 1));
        }
    }

    private static double rssMib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            // gone, or not Linux
        }
        return Double.NaN;
    }

    private static void await(BooleanSupplier condition, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("timed out waiting for " + what.get());
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}
