package dev.procpool.examples.bench;

import dev.procpool.PoolMode;
import dev.procpool.ProcessPool;
import dev.procpool.ResultIterator;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableFunction;
import dev.procpool.Shared;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The Java twin of {@code shared/bench/python_pool_bench.py}: the same workloads, sizes, {@code --quick}
 * sizes, {@code --only} sections and output format ({@code name<TAB>value<TAB>unit}; {@code #} lines are
 * comments), with W = 2 workers always. Names are {@code <section>.procpool.*} for
 * {@link PoolMode#PROCESSES} and {@code <section>.procpool_threads.*} for {@link PoolMode#THREADS}.
 *
 * <pre>
 * java -cp CLASSPATH dev.procpool.examples.bench.PoolBench [--quick] [--only startup,crash]
 * </pre>
 *
 * <p>Where Java differs from the Python script (each also said in a comment line of the output):
 * <ul>
 *   <li>startup: a worker JVM is always fresh, the analogue of Python's "spawn"; there is no fork.
 *       The W-party barrier is a loopback socket served by the parent. A strict barrier (each task
 *       waits until W distinct workers have joined) can deadlock procpool, because the first worker to
 *       start prefetches both tasks; so {@code all_workers_ready} keeps W barrier tasks outstanding,
 *       each waiting at most {@value #PROBE_WAIT_MS} ms, and resubmits until W distinct worker pids have
 *       answered. {@code startup.procpool.strict_barrier} reports what the strict barrier does.</li>
 *   <li>cpu_bound_heavy (not in Python): count_primes(400000), whose tasks take about as long in Java
 *       as count_primes(40000) does in CPython.</li>
 *   <li>big_result (issue 14; its Python twin is {@code bench/python_big_result_bench.py} in this
 *       repository, which compare.py runs too): one 300 MiB byte[] result per call, in a fresh JVM.</li>
 *   <li>crash: JVM analogues of {@code os._exit(1)} are both {@code System.exit(1)} (runs shutdown hooks)
 *       and {@code Runtime.halt(1)} (does not); SIGKILL is {@code kill -9 <own pid>}. The orphan count
 *       is taken 1 s after the child JVM is gone, however it ended.</li>
 * </ul>
 *
 * <p>System properties: {@code procpool.bench.workerJvmOptions} (space-separated JVM options for every
 * worker), {@code procpool.bench.workerJfrDir} (a JFR recording in every worker, see
 * {@link BenchTasks#startJfr}; used by {@code bench/profile.sh}). Child JVMs (imap, crash) get this JVM's {@code -X}/{@code -D} options.
 */
public final class PoolBench {
    static final int W = 2;
    static final int CRASH_N = 16;
    /** How long one all_workers_ready barrier task waits for the others before it answers anyway. */
    static final int PROBE_WAIT_MS = 1;

    private PoolBench() {}

    // ================================================================================= config

    static final class Cfg {
        final boolean quick;
        final int startupReps;
        final int startupWarmup;
        final int reps;
        final int tinyN;
        final int tinyChunk1N;
        final int applyN;
        final int applyWarm;
        final long cpuN = 40_000;
        final long cpuHeavyN = 400_000;
        final int cpuCount;
        final int bytesBigSize = 1 << 20;
        final int bytesBigCount;
        final int bytesSmallSize = 64 << 10;
        final int bytesSmallCount;
        final int imapN;
        final int imapChunk = 1000;
        final int crashTimeout;
        final int asyncGetTimeout;

        Cfg(boolean quick) {
            this.quick = quick;
            startupReps = quick ? 3 : 5;
            startupWarmup = quick ? 0 : 1;
            reps = quick ? 1 : 3;
            tinyN = quick ? 100_000 : 1_000_000;
            tinyChunk1N = quick ? 2_000 : 20_000;
            applyN = quick ? 200 : 2_000;
            applyWarm = quick ? 20 : 200;
            cpuCount = quick ? 8 : 64;
            bytesBigCount = quick ? 10 : 100;
            bytesSmallCount = quick ? 100 : 1000;
            imapN = quick ? 200_000 : 2_000_000;
            crashTimeout = quick ? 5 : 20;
            asyncGetTimeout = quick ? 2 : 5;
        }
    }

    // ================================================================================= output

    static synchronized void emit(String name, Object value, String unit) {
        System.out.println(name + "\t" + fmt(value) + "\t" + unit);
        System.out.flush();
    }

    static synchronized void note(String text) {
        for (String line : String.valueOf(text).split("\n", -1)) {
            System.out.println("# " + line);
        }
        System.out.flush();
    }

    /** Python's fmt(): ints as is, floats with 6 significant digits (no exponent), >= 1e6 rounded. */
    static String fmt(Object v) {
        if (v instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (v instanceof Integer || v instanceof Long) {
            return v.toString();
        }
        if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                return d.toString();
            }
            if (Math.abs(d) >= 1e6) {
                return String.format("%.0f", d);
            }
            if (d == 0) {
                return "0";
            }
            return new BigDecimal(d).round(new MathContext(6)).stripTrailingZeros().toPlainString();
        }
        return String.valueOf(v).replace('\t', ' ').replace('\n', ' ');
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Nearest rank: sorted[ceil(0.99 * N) - 1]. */
    static double p99(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(Math.max(0, (int) Math.ceil(0.99 * s.size()) - 1));
    }

    static String rounded(List<Double> xs, double scale, int digits) {
        List<String> out = new ArrayList<>();
        for (double x : xs) {
            out.add(BigDecimal.valueOf(x * scale).setScale(digits, java.math.RoundingMode.HALF_EVEN).toPlainString());
        }
        return out.toString();
    }

    static double now() {
        return System.nanoTime() / 1e9;
    }

    /** 0² + 1² + ... + (n-1)²; the product overflows a long before the division for n = 2,000,000. */
    static long sumSquaresBelow(long n) {
        return java.math.BigInteger.valueOf(n - 1).multiply(java.math.BigInteger.valueOf(n))
                .multiply(java.math.BigInteger.valueOf(2 * n - 1)).divide(java.math.BigInteger.valueOf(6)).longValueExact();
    }

    static int poolDefaultChunkSize(int n, int workers) {
        int chunk = n / (workers * 4);
        return n % (workers * 4) != 0 ? chunk + 1 : chunk;
    }

    /** Peak RSS of this JVM: VmHWM from /proc/self/status, in MiB. */
    static double peakRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.split("\\s+")[1]) / 1024.0;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Double.NaN;
    }

    static double heapCommittedMib() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / (double) (1 << 20);
    }

    static long gcCount() {
        long n = 0;
        for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    /** Python's range(n): a sized, lazy list of boxed longs (Pool.map knows its length). */
    static List<Long> range(int n) {
        return new AbstractList<>() {
            @Override
            public Long get(int i) {
                return (long) i;
            }

            @Override
            public int size() {
                return n;
            }
        };
    }

    /** Python's generator (i for i in range(n)): lazy, no size. */
    static Iterable<Long> generator(long n) {
        return () -> new Iterator<>() {
            private long i;

            @Override
            public boolean hasNext() {
                return i < n;
            }

            @Override
            public Long next() {
                if (i >= n) {
                    throw new NoSuchElementException();
                }
                return i++;
            }
        };
    }

    static long sum(Iterable<Long> xs) {
        long total = 0;
        for (Long x : xs) {
            total += x;
        }
        return total;
    }

    // ================================================================================= pools

    static final List<PoolMode> MODES = List.of(PoolMode.PROCESSES, PoolMode.THREADS);

    static String impl(PoolMode mode) {
        return mode == PoolMode.THREADS ? "procpool_threads" : "procpool";
    }

    static String[] workerJvmOptions() {
        String options = System.getProperty("procpool.bench.workerJvmOptions", "").trim();
        return options.isEmpty() ? new String[0] : options.split("\\s+");
    }

    static ProcessPool newPool(PoolMode mode) {
        return newPool(mode, true);
    }

    /**
     * @param spares whether the pool keeps spare worker JVMs (the default); the startup section measures
     *               fresh JVMs, Python's spawn, so its pools keep none (section "spares" measures them)
     */
    static ProcessPool newPool(PoolMode mode, boolean spares) {
        ProcessPool.Builder builder = ProcessPool.builder().workers(W).mode(mode).jvmOptions(workerJvmOptions());
        if (!spares) {
            builder.spareWorkers(0);
        }
        String jfrDir = System.getProperty("procpool.bench.workerJfrDir");
        if (jfrDir != null && mode == PoolMode.PROCESSES) {
            builder.initializer(BenchTasks.startJfr(jfrDir));
        }
        return builder.build();
    }

    /**
     * A pool as the Python script uses it outside startup: "created and warmed (both workers started, one
     * small map done) before the clock starts". Waits until W workers are ready (and, in process mode, its
     * W spare JVMs, which boot in the background after them), then runs {@code warm}.
     */
    static ProcessPool warmPool(PoolMode mode, Consumer<ProcessPool> warm) {
        ProcessPool pool = newPool(mode);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (pool.stats().workers().size() < W || mode == PoolMode.PROCESSES && pool.stats().spares().size() < W) {
            if (System.nanoTime() > deadline) {
                pool.terminate();
                throw new IllegalStateException("workers not ready within 60 s: " + pool.stats());
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                pool.terminate();
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        warm.accept(pool);
        return pool;
    }

    @SuppressWarnings("unchecked")
    static <T> T get(CompletableFuture<?> f, long seconds) {
        try {
            return (T) f.get(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("check failed: " + what);
        }
    }

    // ================================================================================= 1. startup

    /**
     * A W-party barrier on a loopback socket, created before the clock starts. Each party sends
     * {@code pid/threadId}; once {@code parties} distinct workers (pids in process mode, pid/thread in
     * thread mode) have joined, every waiting and every later party is released.
     */
    static final class SocketBarrier implements AutoCloseable {
        private final ServerSocket server;
        private final int parties;
        private final boolean byPid;
        private final List<Socket> waiting = new ArrayList<>();
        private final Set<String> joined = new HashSet<>();
        private boolean released;

        SocketBarrier(int parties, boolean byPid) throws IOException {
            this.server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
            this.parties = parties;
            this.byPid = byPid;
            Thread acceptor = new Thread(this::acceptLoop, "bench-barrier");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    socket.setTcpNoDelay(true);
                    String id = new DataInputStream(socket.getInputStream()).readUTF();
                    String key = byPid ? id.substring(0, id.indexOf('/')) : id;
                    synchronized (this) { // close() walks the same list from the benchmark's thread
                        joined.add(key);
                        waiting.add(socket);
                        if (joined.size() >= parties) {
                            released = true;
                        }
                        if (released) {
                            for (Socket s : waiting) {
                                release(s);
                            }
                            waiting.clear();
                        }
                    }
                } catch (IOException e) {
                    // closed, or a party gave up
                }
            }
        }

        private static void release(Socket s) {
            try {
                OutputStream out = s.getOutputStream();
                out.write(1);
                out.flush();
                s.close();
            } catch (IOException ignored) {
                // that party timed out and left
            }
        }

        @Override
        public synchronized void close() throws IOException {
            server.close();
            for (Socket s : waiting) {
                s.close();
            }
            waiting.clear();
        }
    }

    /** Worker identity in an answer {@code pid/tid/how}: the pid in process mode, pid/tid in thread mode. */
    static String identity(String answer, PoolMode mode) {
        String[] parts = answer.split("/");
        return mode == PoolMode.THREADS ? parts[0] + "/" + parts[1] : parts[0];
    }

    /**
     * Keeps W barrier tasks outstanding until W distinct workers have answered one each. Returns the
     * number of tasks it took.
     */
    static int awaitAllWorkers(ProcessPool pool, SocketBarrier barrier, PoolMode mode, Set<String> served) {
        SerializableCallable<String> task = BenchTasks.barrierTask(barrier.port(), PROBE_WAIT_MS);
        List<CompletableFuture<String>> outstanding = new ArrayList<>();
        for (int i = 0; i < W; i++) {
            outstanding.add(pool.submit(task));
        }
        int tasks = W;
        while (served.size() < W) {
            get(CompletableFuture.anyOf(outstanding.toArray(new CompletableFuture<?>[0])), 60);
            for (Iterator<CompletableFuture<String>> it = outstanding.iterator(); it.hasNext(); ) {
                CompletableFuture<String> f = it.next();
                if (f.isDone()) {
                    it.remove();
                    served.add(identity(f.join(), mode));
                }
            }
            while (served.size() < W && outstanding.size() < W) {
                outstanding.add(pool.submit(task));
                tasks++;
            }
        }
        for (CompletableFuture<String> f : outstanding) {
            served.add(identity(get(f, 60), mode));
        }
        return tasks;
    }

    static double startupFirst(PoolMode mode) {
        double t0 = now();
        try (ProcessPool pool = newPool(mode, false)) {
            pool.submit((SerializableCallable<Object>) BenchTasks::noop).join();
            return now() - t0;
        }
    }

    /** {all_workers_ready, ready_close_join, tasks used}. */
    static double[] startupReady(PoolMode mode) {
        try (SocketBarrier barrier = new SocketBarrier(W, mode == PoolMode.PROCESSES)) {
            Set<String> served = new HashSet<>();
            double t0 = now();
            ProcessPool pool = newPool(mode, false);
            int tasks;
            double t1;
            try {
                tasks = awaitAllWorkers(pool, barrier, mode, served);
                t1 = now();
            } finally {
                pool.close();
            }
            double t2 = now();
            check(served.size() == W, "W distinct workers answered: " + served);
            return new double[] {t1 - t0, t2 - t0, tasks};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double startupCreateCloseJoin(PoolMode mode) {
        double t0 = now();
        ProcessPool pool = newPool(mode, false);
        pool.close();
        return now() - t0;
    }

    /** What a strict W-party barrier (each task waits up to 3 s for the others) does right after build. */
    static String strictBarrier(PoolMode mode) {
        try (SocketBarrier barrier = new SocketBarrier(W, mode == PoolMode.PROCESSES);
                ProcessPool pool = newPool(mode, false)) {
            SerializableCallable<String> task = BenchTasks.barrierTask(barrier.port(), 3_000);
            double t0 = now();
            List<CompletableFuture<String>> fs = new ArrayList<>();
            for (int i = 0; i < W; i++) {
                fs.add(pool.submit(task));
            }
            List<String> answers = new ArrayList<>();
            for (CompletableFuture<String> f : fs) {
                answers.add(get(f, 60));
            }
            double dt = now() - t0;
            boolean ok = answers.stream().allMatch(a -> a.endsWith("/released"));
            Set<String> who = new TreeSet<>();
            answers.forEach(a -> who.add(identity(a, mode)));
            return (ok ? "released" : "barrier timed out (3 s)") + String.format(" after %.0f ms; answers %s; distinct %d",
                    dt * 1e3, answers, who.size());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T> List<T> samples(Supplier<T> fn, int reps, int warmup) {
        for (int i = 0; i < warmup; i++) {
            fn.get();
        }
        List<T> out = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            out.add(fn.get());
        }
        return out;
    }

    static void benchStartup(Cfg cfg) {
        note("startup: W=" + W + ", median of " + cfg.startupReps + " after " + cfg.startupWarmup
                + " warm-up, unit ms; a worker JVM is always fresh (Python's spawn is the analogue): these pools keep"
                + " no spare JVMs (section spares measures those)");
        note("  all_workers_ready: W barrier tasks outstanding, each waits <= " + PROBE_WAIT_MS
                + " ms at a W-party socket barrier, resubmitted until W distinct workers answered");
        note("  worker JVM options: " + Arrays.toString(workerJvmOptions()));
        int r = cfg.startupReps;
        int w = cfg.startupWarmup;
        for (PoolMode mode : MODES) {
            String base = "startup." + impl(mode);
            List<Double> first = samples(() -> startupFirst(mode), r, w);
            List<double[]> ready;
            if (mode == PoolMode.PROCESSES) {
                ready = readyAndFloor(cfg);
            } else {
                ready = samples(() -> startupReady(mode), r, w);
            }
            List<Double> readyT = new ArrayList<>();
            List<Double> closeT = new ArrayList<>();
            List<Integer> tasks = new ArrayList<>();
            for (double[] x : ready) {
                readyT.add(x[0]);
                closeT.add(x[1]);
                tasks.add((int) x[2]);
            }
            emit(base + ".first_result", median(first) * 1e3, "ms");
            emit(base + ".all_workers_ready", median(readyT) * 1e3, "ms");
            emit(base + ".ready_close_join", median(closeT) * 1e3, "ms");
            note("  " + base + " samples ms: first=" + rounded(first, 1e3, 1) + " ready=" + rounded(readyT, 1e3, 1)
                    + " ready_close_join=" + rounded(closeT, 1e3, 1) + " barrier tasks used=" + tasks);
            List<Double> ccj = samples(() -> startupCreateCloseJoin(mode), r, w);
            emit(base + ".create_close_join", median(ccj) * 1e3, "ms");
            note("  " + base + " samples ms: create_close_join=" + rounded(ccj, 1e3, 1));
            int tries = 3;
            int deadlocks = 0;
            for (int i = 0; i < tries; i++) {
                String strict = strictBarrier(mode);
                if (!strict.startsWith("released")) {
                    deadlocks++;
                }
                note("  " + base + " strict W-party barrier right after build, try " + (i + 1) + ": " + strict);
            }
            emit(base + ".strict_barrier", deadlocks == 0 ? "released " + tries + "/" + tries
                    : "stuck until timeout in " + deadlocks + "/" + tries, "observation");
        }
    }

    /**
     * all_workers_ready samples of process mode, each followed by a round of the floor (W bare JVMs
     * started at once, each loading Kryo and answering one frame: see {@link StartupFloor}), so that the
     * pool and its floor are measured under the same load; emits the floor's medians.
     */
    static List<double[]> readyAndFloor(Cfg cfg) {
        note("  floor: " + W + " bare JVMs started at once, each loads Kryo and answers one frame (StartupFloor), a"
                + " round after each all_workers_ready sample; bare java -cp, and with an AppCDS archive of those"
                + " classes + " + StartupFloor.FLAGS);
        List<double[]> ready = new ArrayList<>();
        List<Double> bare = new ArrayList<>();
        List<Double> best = new ArrayList<>();
        StartupFloor floor = null;
        try {
            for (int i = 0; i < cfg.startupWarmup; i++) {
                startupReady(PoolMode.PROCESSES);
            }
            floor = StartupFloor.prepare(W);
            for (int i = 0; i < cfg.startupReps; i++) {
                ready.add(startupReady(PoolMode.PROCESSES));
                double[] f = floor.sample(W);
                bare.add(f[0]);
                best.add(f[1]);
            }
            note("  floor samples ms: bare=" + rounded(bare, 1, 1) + " appcds+flags=" + rounded(best, 1, 1)
                    + (floor.archiveUsed() ? "" : " (the archive was NOT written: flags only)"));
            emit("startup.floor.bare", median(bare), "ms");
            emit("startup.floor.appcds_flags", median(best), "ms");
            return ready;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            if (floor != null) {
                try {
                    floor.delete();
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
    }

    // ================================================================================= 2. tiny_map

    static double timedMap(Supplier<List<?>> run, int reps, Consumer<List<?>> chk, List<Double> times) {
        for (int i = 0; i < reps; i++) {
            double t0 = now();
            List<?> res = run.get();
            double dt = now() - t0;
            chk.accept(res);
            times.add(dt);
        }
        return median(times);
    }

    @SuppressWarnings("unchecked")
    static Consumer<List<?>> sumCheck(long expected, int length) {
        return res -> check(res.size() == length && sum((List<Long>) res) == expected, "sum/length");
    }

    static void benchTinyMap(Cfg cfg) {
        int n = cfg.tinyN;
        int n1 = cfg.tinyChunk1N;
        int reps = cfg.reps;
        int cs = poolDefaultChunkSize(n, W);
        long expN = sumSquaresBelow(n);
        long expN1 = sumSquaresBelow(n1);
        note("tiny_map: n=" + n + " (chunksize " + cs + " = Pool default), chunk1 n=" + n1 + ", median of " + reps
                + "; input: a sized lazy list of boxed longs (range)");
        double med = timedMap(() -> {
            List<Long> out = new ArrayList<>();
            for (Long x : range(n)) {
                out.add(BenchTasks.square(x));
            }
            return out;
        }, reps, sumCheck(expN, n), new ArrayList<>());
        emit("tiny_map.inprocess.seconds", med, "s");
        emit("tiny_map.inprocess.tasks_per_s", n / med, "tasks/s");
        SerializableFunction<Long, Long> square = BenchTasks::square;
        for (PoolMode mode : MODES) {
            String base = "tiny_map." + impl(mode);
            try (ProcessPool pool = warmPool(mode, p -> p.map(square, range(1000)))) {
                List<Double> ts = new ArrayList<>();
                med = timedMap(() -> pool.map(square, range(n), cs), reps, sumCheck(expN, n), ts);
                emit(base + ".chunk_default.seconds", med, "s");
                emit(base + ".chunk_default.tasks_per_s", n / med, "tasks/s");
                note("  " + base + ".chunk_default samples s: " + rounded(ts, 1, 4));
                ts.clear();
                med = timedMap(() -> pool.map(square, range(n1), 1), reps, sumCheck(expN1, n1), ts);
                emit(base + ".chunk1.seconds", med, "s");
                emit(base + ".chunk1.tasks_per_s", n1 / med, "tasks/s");
                note("  " + base + ".chunk1 samples s: " + rounded(ts, 1, 4));
            }
        }
    }

    // ================================================================================= 3. apply_latency

    static void benchApplyLatency(Cfg cfg) {
        int n = cfg.applyN;
        int warm = cfg.applyWarm;
        note("apply_latency: " + n + " sequential calls after " + warm + " warm-up, identity(i), pool.apply");
        SerializableFunction<Long, Long> identity = BenchTasks::identity;
        for (PoolMode mode : MODES) {
            List<Double> lat = new ArrayList<>();
            try (ProcessPool pool = warmPool(mode, p -> { })) {
                for (long i = 0; i < warm; i++) {
                    check(pool.apply(identity, i) == i, "apply warm-up");
                }
                for (long i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    Long r = pool.apply(identity, i);
                    lat.add((System.nanoTime() - t0) / 1e3);
                    check(r == i, "apply result");
                }
            }
            emit("apply_latency." + impl(mode) + ".median_us", median(lat), "us");
            emit("apply_latency." + impl(mode) + ".p99_us", p99(lat), "us");
        }
    }

    // ================================================================================= 4. cpu_bound

    static void benchCpuBound(Cfg cfg) {
        cpuBound(cfg, "cpu_bound", cfg.cpuN);
        cpuBound(cfg, "cpu_bound_heavy", cfg.cpuHeavyN);
    }

    static void cpuBound(Cfg cfg, String section, long primesN) {
        List<Long> inputs = new ArrayList<>();
        for (int i = 0; i < cfg.cpuCount; i++) {
            inputs.add(primesN);
        }
        long one = BenchTasks.countPrimes(primesN);
        long expected = one * inputs.size();
        int reps = cfg.reps;
        note(section + ": inputs=[" + primesN + "]*" + cfg.cpuCount + ", count_primes(" + primesN + ")=" + one
                + ", checksum=" + expected + ", median of " + reps + ", chunksize 1");
        Consumer<List<?>> chk = sumCheck(expected, inputs.size());
        List<Double> ts = new ArrayList<>();
        double seq = timedMap(() -> {
            List<Long> out = new ArrayList<>();
            for (Long x : inputs) {
                out.add(BenchTasks.countPrimes(x));
            }
            return out;
        }, reps, chk, ts);
        emit(section + ".sequential.seconds", seq, "s");
        note("  sequential samples s: " + rounded(ts, 1, 3));
        SerializableFunction<Long, Long> countPrimes = BenchTasks::countPrimes;
        for (PoolMode mode : MODES) {
            ts.clear();
            double med;
            try (ProcessPool pool = warmPool(mode, p -> p.map(countPrimes, List.of(1000L, 1000L), 1))) {
                med = timedMap(() -> pool.map(countPrimes, inputs, 1), reps, chk, ts);
            }
            emit(section + "." + impl(mode) + ".seconds", med, "s");
            emit(section + "." + impl(mode) + ".speedup", seq / med, "x");
            note("  " + impl(mode) + " samples s: " + rounded(ts, 1, 3));
        }
    }

    // ================================================================================= 5. bytes

    static void benchBytes(Cfg cfg) {
        int reps = cfg.reps;
        SerializableFunction<byte[], byte[]> identity = BenchTasks::identityBytes;
        List<byte[]> warm = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            warm.add(new byte[] {'x'});
        }
        for (PoolMode mode : MODES) {
            try (ProcessPool pool = warmPool(mode, p -> p.map(identity, warm, 1))) {
                for (int[] sc : new int[][] {{cfg.bytesBigSize, cfg.bytesBigCount}, {cfg.bytesSmallSize, cfg.bytesSmallCount}}) {
                    int size = sc[0];
                    int count = sc[1];
                    String label = size == (1 << 20) ? "1MiB" : "64KiB";
                    List<byte[]> payloads = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        byte[] b = new byte[size];
                        Arrays.fill(b, (byte) (i % 256));
                        payloads.add(b);
                    }
                    double mib = (double) size * count / (1 << 20);
                    note("bytes_throughput " + label + " (" + impl(mode) + "): " + count + " x " + size + " B = "
                            + fmt(mib) + " MiB payload, chunksize=1, median of " + reps);
                    Consumer<List<?>> chk = res -> {
                        check(res.size() == count, "bytes count");
                        for (int i = 0; i < count; i++) {
                            check(Arrays.equals((byte[]) res.get(i), payloads.get(i)), "bytes equal");
                        }
                    };
                    List<Double> ts = new ArrayList<>();
                    double med = timedMap(() -> pool.map(identity, payloads, 1), reps, chk, ts);
                    String base = "bytes." + impl(mode) + "." + label;
                    emit(base + ".seconds", med, "s");
                    emit(base + ".mib_per_s", mib / med, "MiB/s");
                    note("  " + base + " samples s: " + rounded(ts, 1, 4));
                }
            }
        }
    }

    // ================================================================================= 5b. big_result

    static final int BIG_RESULT_BYTES = 300 << 20;

    /** In a fresh JVM: a warmed pool, then {@code reps} calls each returning one 300 MiB byte[]. */
    static void childBigResult(Cfg cfg, String impl) {
        PoolMode mode = impl.equals("procpool_threads") ? PoolMode.THREADS : PoolMode.PROCESSES;
        SerializableFunction<Integer, byte[]> makeBig = BenchTasks::makeBig;
        double before = peakRssMib();
        List<Double> ts = new ArrayList<>();
        try (ProcessPool pool = warmPool(mode, p -> p.apply(makeBig, 10))) {
            for (int i = 0; i < cfg.reps; i++) {
                double t0 = now();
                byte[] res = pool.apply(makeBig, BIG_RESULT_BYTES);
                ts.add(now() - t0);
                check(res.length == BIG_RESULT_BYTES && res[res.length - 1] == 7, "big result");
            }
        }
        childEvent("big_result", "seconds", median(ts), "before", before, "peak", peakRssMib(), "samples", ts,
                "max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
    }

    static void benchBigResult(Cfg cfg) throws IOException, InterruptedException {
        note("big_result: one " + BIG_RESULT_BYTES + " B byte[] result per call (pool.apply), W=" + W + ", median of "
                + cfg.reps + ", each mode in a fresh JVM with options " + childJvmOptions() + "; RSS = VmHWM of that JVM");
        for (PoolMode mode : MODES) {
            String impl = impl(mode);
            ChildResult info = runChild(childArgs("--child-big-result", impl, cfg), 300);
            Map<String, String> e = info.events.get("big_result");
            String base = "big_result." + impl;
            if (info.hung || e == null) {
                emit(base + ".seconds", "error", "s");
                note("  big_result " + impl + " failed: rc=" + info.rc + " hung=" + info.hung + " stderr="
                        + tail(info.stderr, 800));
                continue;
            }
            double seconds = Double.parseDouble(e.get("seconds"));
            emit(base + ".seconds", seconds, "s");
            emit(base + ".mib_per_s", BIG_RESULT_BYTES / (double) (1 << 20) / seconds, "MiB/s");
            emit(base + ".parent_peak_rss_mib", Double.parseDouble(e.get("peak")), "MiB");
            emit(base + ".parent_rss_before_mib", Double.parseDouble(e.get("before")), "MiB");
            note("  " + base + " samples s: " + e.get("samples") + ", caller max heap " + e.get("max_heap_mib") + " MiB");
        }
    }

    // ================================================================================= 5c. broadcast

    static final int BROADCAST_BYTES = 200 << 20;
    static final int BROADCAST_TASKS = 100;

    /**
     * Issue 14, Pool.share: one 200 MiB byte[] (byte i = i % 256) read by 100 tasks, task i counting the bytes
     * equal to 7 in its 1/100th (so the tasks' whole compute is one pass over the value); the clock covers
     * share + map + closing the handle, on a warmed pool. Also in-process: the 100 tasks in a loop (compute) and
     * one copy of the value: ratio = seconds / (compute + copy), target <= 1.5. Python twin:
     * bench/python_broadcast_bench.py (the value as an argument, and through an initializer).
     */
    static void benchBroadcast(Cfg cfg) {
        byte[] value = new byte[BROADCAST_BYTES];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) i;
        }
        long expected = (long) BROADCAST_TASKS * (BROADCAST_BYTES / BROADCAST_TASKS / 256);
        List<Double> computes = new ArrayList<>();
        List<Double> copies = new ArrayList<>();
        for (int r = 0; r < Math.max(cfg.reps, 3); r++) {
            double t0 = now();
            long total = 0;
            for (int i = 0; i < BROADCAST_TASKS; i++) {
                total += BenchTasks.countSevens(value, i, BROADCAST_TASKS);
            }
            computes.add(now() - t0);
            check(total == expected, "broadcast in-process");
            t0 = now();
            byte[] copy = java.util.Arrays.copyOf(value, value.length);
            copies.add(now() - t0);
            check(copy[7] == 7, "broadcast copy");
        }
        double compute = median(computes);
        double copy = median(copies);
        note("broadcast: a " + BROADCAST_BYTES + " B byte[] shared once (pool.share) and read by " + BROADCAST_TASKS
                + " tasks (each counts 7s in 1/" + BROADCAST_TASKS + " of it), W=" + W + ", median of " + cfg.reps
                + "; in-process compute " + rounded(computes, 1, 4) + " s, one copy " + rounded(copies, 1, 4) + " s");
        emit("broadcast.compute_seconds", compute, "s");
        emit("broadcast.copy_seconds", copy, "s");
        for (PoolMode mode : MODES) {
            SerializableFunction<Long, Long> warm = x -> x;
            List<Double> ts = new ArrayList<>();
            List<Double> shares = new ArrayList<>();
            try (ProcessPool pool = warmPool(mode, p -> p.map(warm, range(4 * W), 1))) {
                for (int r = 0; r < cfg.reps; r++) {
                    double t0 = now();
                    List<Long> counts;
                    try (Shared<byte[]> shared = pool.share(value)) {
                        shares.add(now() - t0);
                        counts = pool.map(i -> BenchTasks.countSevens(shared.get(), i.intValue(), BROADCAST_TASKS),
                                range(BROADCAST_TASKS));
                    }
                    ts.add(now() - t0);
                    check(sum(counts) == expected, "broadcast " + impl(mode));
                }
            }
            String base = "broadcast." + impl(mode);
            double seconds = median(ts);
            emit(base + ".seconds", seconds, "s");
            emit(base + ".share_seconds", median(shares), "s");
            emit(base + ".ratio", seconds / (compute + copy), "x");
            note("  " + base + " samples s: " + rounded(ts, 1, 4) + ", of which share() " + rounded(shares, 1, 4));
        }
    }

    // ================================================================================= child JVMs

    /** This JVM's options worth passing on to a child JVM (heap, properties), not agents or JFR. */
    static List<String> childJvmOptions() {
        List<String> out = new ArrayList<>();
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if ((arg.startsWith("-X") || arg.startsWith("-D")) && !arg.contains("FlightRecord")
                    && !arg.startsWith("-Xrun") && !arg.contains("jdwp")) {
                out.add(arg);
            }
        }
        return out;
    }

    static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "");
    }

    static String unesc(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char d = s.charAt(++i);
                b.append(d == 'n' ? '\n' : d == 't' ? '\t' : d);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** A child reports to its parent with lines {@code @event<TAB>key=value...} on stdout. */
    static void childEvent(String event, Object... kv) {
        StringBuilder b = new StringBuilder("@" + event);
        for (int i = 0; i < kv.length; i += 2) {
            b.append('\t').append(kv[i]).append('=').append(esc(String.valueOf(kv[i + 1])));
        }
        synchronized (PoolBench.class) {
            System.out.println(b);
            System.out.flush();
        }
    }

    /** Live (non-zombie) processes whose session id is {@code sid}: "pid,ppid,state". */
    static List<long[]> sessionMembers(long sid) {
        List<long[]> out = new ArrayList<>();
        try (var dir = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (IOException e) {
                    continue;
                }
                String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                char state = rest[0].charAt(0);
                long ppid = Long.parseLong(rest[1]);
                long session = Long.parseLong(rest[3]);
                if (session == sid && state != 'Z') {
                    out.add(new long[] {Long.parseLong(name), ppid, state});
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static String describe(List<long[]> procs) {
        List<String> out = new ArrayList<>();
        for (long[] p : procs) {
            out.add("(" + p[0] + "," + p[1] + "," + (char) p[2] + ")");
        }
        return out.toString();
    }

    static final class ChildResult {
        long pid;
        boolean hung;
        int rc;
        List<long[]> procsWhileHung = List.of();
        List<long[]> orphans = List.of();
        List<long[]> orphansAfterCleanup = List.of();
        Map<String, Map<String, String>> events = new LinkedHashMap<>();
        String stderr = "";
    }

    /**
     * Runs this benchmark again as {@code args} in a fresh JVM in its own session ({@code setsid}); kills
     * it with SIGKILL after {@code timeoutSeconds}. One second after the child is gone, whatever of
     * its session is still alive outlived it (orphans) and is then killed by pid.
     */
    static ChildResult runChild(List<String> args, int timeoutSeconds) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("setsid");
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(childJvmOptions());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(PoolBench.class.getName());
        command.addAll(args);
        Path out = Files.createTempFile("poolbench-child", ".out");
        Path err = Files.createTempFile("poolbench-child", ".err");
        ChildResult r = new ChildResult();
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE).start();
            r.pid = p.pid();
            if (p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                r.rc = p.exitValue();
            } else {
                r.hung = true;
                r.procsWhileHung = sessionMembers(r.pid);
                p.toHandle().destroyForcibly(); // the child JVM only; its workers are on their own now
                p.waitFor();
                r.rc = p.exitValue();
            }
            Thread.sleep(1_000);
            r.orphans = sessionMembers(r.pid);
            for (long[] o : r.orphans) {
                ProcessHandle.of(o[0]).ifPresent(ProcessHandle::destroyForcibly);
            }
            if (!r.orphans.isEmpty()) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!sessionMembers(r.pid).isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                r.orphansAfterCleanup = sessionMembers(r.pid);
            }
            for (String line : Files.readAllLines(out)) {
                if (line.startsWith("@")) {
                    String[] parts = line.substring(1).split("\t");
                    Map<String, String> kv = new LinkedHashMap<>();
                    for (int i = 1; i < parts.length; i++) {
                        int eq = parts[i].indexOf('=');
                        kv.put(parts[i].substring(0, eq), unesc(parts[i].substring(eq + 1)));
                    }
                    r.events.put(parts[0], kv);
                }
            }
            r.stderr = Files.readString(err);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
        return r;
    }

    static List<String> childArgs(String flag, String value, Cfg cfg) {
        List<String> args = new ArrayList<>(List.of(flag, value));
        if (cfg.quick) {
            args.add("--quick");
        }
        return args;
    }

    static String tail(String s, int chars) {
        s = s.strip();
        return s.length() <= chars ? s : "..." + s.substring(s.length() - chars);
    }

    // ================================================================================= 6. imap

    static final List<String> IMAP_VARIANTS = List.of("inprocess",
            "procpool.imap", "procpool.imap_paused_consumer", "procpool.map",
            "procpool_threads.imap", "procpool_threads.imap_paused_consumer", "procpool_threads.map",
            "procpool.imap_paused_retained", "procpool_threads.imap_paused_retained");

    /** Heap in use after a full collection, in MiB: what is really retained. */
    static double heapUsedAfterGcMib() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (double) (1 << 20);
    }

    static void childImap(Cfg cfg, String variant) throws InterruptedException {
        long n = cfg.imapN;
        int cs = cfg.imapChunk;
        Iterable<Long> gen = generator(n);
        SerializableFunction<Long, Long> square = BenchTasks::square;
        ProcessPool pool = null;
        if (!variant.equals("inprocess")) {
            pool = warmPool(variant.startsWith("procpool_threads.") ? PoolMode.THREADS : PoolMode.PROCESSES,
                    p -> p.map(square, range(1000)));
        }
        try {
            double before = peakRssMib();
            double heapBefore = heapCommittedMib();
            double t0 = now();
            long total;
            double retained = Double.NaN;
            switch (variant.substring(variant.indexOf('.') + 1)) {
                case "inprocess" -> {
                    total = 0;
                    for (Long i : gen) {
                        total += BenchTasks.square(i);
                    }
                }
                case "imap" -> {
                    try (ResultIterator<Long> it = pool.imap(square, gen, cs)) {
                        total = sum(() -> it);
                    }
                }
                case "imap_paused_consumer" -> {
                    try (ResultIterator<Long> it = pool.imap(square, gen, cs)) {
                        total = it.next();
                        Thread.sleep(1_000); // slow consumer
                        total += sum(() -> it);
                    }
                }
                case "map" -> total = sum(pool.map(square, gen, cs));
                case "imap_paused_retained" -> { // diagnostic: what a paused consumer's pool really holds
                    double used0 = heapUsedAfterGcMib();
                    try (ResultIterator<Long> it = pool.imap(square, gen, cs)) {
                        total = it.next();
                        Thread.sleep(1_000);
                        retained = heapUsedAfterGcMib() - used0;
                        total += sum(() -> it);
                    }
                }
                default -> throw new IllegalArgumentException("unknown imap variant " + variant);
            }
            double dt = now() - t0;
            double peak = peakRssMib();
            childEvent("imap", "variant", variant, "seconds", dt, "before", before, "peak", peak,
                    "ok", total == sumSquaresBelow(n), "heap_before", heapBefore, "heap_after", heapCommittedMib(),
                    "gcs", gcCount(), "retained", retained);
        } finally {
            if (pool != null) {
                pool.close();
            }
        }
    }

    static void benchImap(Cfg cfg) throws IOException, InterruptedException {
        long n = cfg.imapN;
        note("imap: N=" + n + ", chunksize=" + cfg.imapChunk + ", lazy Iterable input (no size), each variant in a "
                + "fresh JVM with options " + childJvmOptions() + "; RSS = VmHWM of that JVM");
        for (String v : IMAP_VARIANTS) {
            ChildResult info = runChild(childArgs("--child-imap", v, cfg), 180);
            Map<String, String> e = info.events.get("imap");
            String base = "imap." + v;
            if (info.hung || e == null) {
                emit(base + ".seconds", "error", "s");
                note("  imap " + v + " failed: rc=" + info.rc + " hung=" + info.hung + " stderr=" + tail(info.stderr, 500));
                continue;
            }
            if (v.endsWith("_retained")) {
                emit(base + ".retained_mib", Double.parseDouble(e.get("retained")), "MiB");
                note("  imap " + v + ": heap in use after a full GC at the end of the 1 s pause minus the same just "
                        + "before imap started (diagnostic only; its timings are not comparable)");
                continue;
            }
            double seconds = Double.parseDouble(e.get("seconds"));
            double peak = Double.parseDouble(e.get("peak"));
            double before = Double.parseDouble(e.get("before"));
            emit(base + ".seconds", seconds, "s");
            if (!v.contains("paused")) {
                emit(base + ".tasks_per_s", n / seconds, "tasks/s");
            }
            emit(base + ".parent_peak_rss_mib", peak, "MiB");
            emit(base + ".parent_rss_before_mib", before, "MiB");
            emit(base + ".parent_growth_mib", peak - before, "MiB");
            note(String.format("  imap %s: Java heap committed %.1f -> %.1f MiB during the run, %s GCs in the JVM so far",
                    v, Double.parseDouble(e.get("heap_before")), Double.parseDouble(e.get("heap_after")), e.get("gcs")));
            if (!Boolean.parseBoolean(e.get("ok"))) {
                note("  imap " + v + ": WRONG SUM");
            }
            if (!info.orphans.isEmpty()) {
                note("  imap " + v + ": " + info.orphans.size() + " leftover processes killed " + describe(info.orphans));
            }
        }
    }

    // ================================================================================= 7. crash

    /** case name -> {mode, api, kind}. */
    static final Map<String, String[]> CRASH_CASES = new LinkedHashMap<>();

    static {
        for (PoolMode mode : MODES) {
            for (String kind : List.of("system_exit", "halt", "sigkill", "raise")) {
                CRASH_CASES.put(impl(mode) + ".map." + kind, new String[] {mode.name(), "map", kind});
            }
            if (mode == PoolMode.PROCESSES) {
                CRASH_CASES.put(impl(mode) + ".map_async_get_timeout.halt", new String[] {mode.name(), "async", "halt"});
            }
        }
    }

    static SerializableFunction<Long, Long> crashFunction(String kind) {
        return switch (kind) {
            case "system_exit" -> BenchTasks::crashSystemExit;
            case "halt" -> BenchTasks::crashHalt;
            case "sigkill" -> BenchTasks::crashSigkill;
            case "raise" -> BenchTasks::crashRaise;
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static List<Long> pids(ProcessPool pool) {
        List<Long> out = new ArrayList<>();
        pool.stats().workers().forEach(w -> out.add(w.pid()));
        out.sort(null);
        return out;
    }

    static void childCrash(Cfg cfg, String name) throws InterruptedException {
        String[] c = CRASH_CASES.get(name);
        PoolMode mode = PoolMode.valueOf(c[0]);
        SerializableFunction<Long, Long> fn = crashFunction(c[2]);
        SerializableFunction<Long, Long> square = BenchTasks::square;
        List<Long> expectedSquares = new ArrayList<>();
        for (long x = 0; x < 10; x++) {
            expectedSquares.add(x * x);
        }
        try (ProcessPool pool = warmPool(mode, p -> p.map(square, range(10)))) {
            childEvent("start", "pids", pids(pool));
            double t0 = now();
            try {
                List<Long> res = c[1].equals("map")
                        ? pool.map(fn, range(CRASH_N), 1)
                        : get(pool.mapAsync(fn, range(CRASH_N), 1), cfg.asyncGetTimeout);
                childEvent("returned", "elapsed", now() - t0, "n_results", res.size());
            } catch (RuntimeException e) {
                double elapsed = now() - t0;
                Throwable caught = e;
                if (e instanceof IllegalStateException && e.getCause() instanceof ExecutionException ee) {
                    caught = ee.getCause(); // mapAsync(...).get(timeout): what get() threw
                } else if (e instanceof IllegalStateException && e.getCause() instanceof TimeoutException te) {
                    caught = te;
                }
                StringWriter view = new StringWriter();
                caught.printStackTrace(new PrintWriter(view));
                Throwable cause = caught.getCause();
                childEvent("raised", "elapsed", elapsed, "exc_type", caught.getClass().getName(),
                        "exc_msg", String.valueOf(caught.getMessage()),
                        "cause_type", cause == null ? "none" : cause.getClass().getName(),
                        "remote_tb_has_frame", view.toString().contains("BenchTasks.crash"),
                        "caller_view", view.toString());
            }
            Thread.sleep(500); // give the pool time to replace dead workers
            List<Long> pidsAfter = pids(pool);
            try {
                boolean ok = pool.map(square, range(10), 1).equals(expectedSquares);
                childEvent("usable_after", "usable", ok, "pids_after", pidsAfter);
            } catch (RuntimeException e) {
                childEvent("usable_after", "usable", false, "err", e.toString(), "pids_after", pidsAfter);
            }
        }
        childEvent("closed");
    }

    static void benchCrash(Cfg cfg) throws IOException, InterruptedException {
        int t = cfg.crashTimeout;
        note("crash: map(f, range(" + CRASH_N + "), chunksize=1), f(" + BenchTasks.CRASH_AT + ") crashes; "
                + "each case in a fresh JVM in its own session, killed after " + t + " s; orphans counted 1 s after "
                + "that JVM is gone");
        for (String name : CRASH_CASES.keySet()) {
            ChildResult info = runChild(childArgs("--child-crash", name, cfg), t);
            String base = "crash." + name;
            Map<String, String> start = info.events.getOrDefault("start", Map.of());
            if (info.hung) {
                emit(base + ".outcome", "hang (no return within " + t + " s, killed)", "observation");
                List<Long> workers = new ArrayList<>();
                for (long[] p : info.procsWhileHung) {
                    if (p[1] == info.pid) {
                        workers.add(p[0]);
                    }
                }
                note("  " + name + ": worker pids at start=" + start.get("pids") + ", while hung=" + workers);
                emit(base + ".workers_alive_while_hung", workers.size(), "processes");
            } else if (info.events.containsKey("raised")) {
                Map<String, String> e = info.events.get("raised");
                emit(base + ".outcome", "raised " + e.get("exc_type"), "observation");
                emit(base + ".elapsed_s", Double.parseDouble(e.get("elapsed")), "s");
                emit(base + ".cause", e.get("cause_type"), "observation");
                emit(base + ".remote_traceback_visible", Boolean.parseBoolean(e.get("remote_tb_has_frame")), "bool");
                note("  " + name + ": message: " + e.get("exc_msg"));
                note("  " + name + ": what the caller sees (printStackTrace, first 25 lines):");
                String[] lines = e.get("caller_view").strip().split("\n");
                for (int i = 0; i < Math.min(25, lines.length); i++) {
                    note("    | " + lines[i]);
                }
            } else if (info.events.containsKey("returned")) {
                emit(base + ".outcome", "returned " + info.events.get("returned").get("n_results") + " results",
                        "observation");
            } else {
                emit(base + ".outcome", "child JVM died rc=" + info.rc, "observation");
                note("  " + name + ": stderr: " + tail(info.stderr, 600));
            }
            Map<String, String> u = info.events.get("usable_after");
            if (u != null) {
                emit(base + ".usable_after", Boolean.parseBoolean(u.get("usable")), "bool");
                if (u.containsKey("err")) {
                    note("  " + name + ": after the failure: " + u.get("err"));
                }
                note("  " + name + ": worker pids before=" + start.get("pids") + " after=" + u.get("pids_after"));
            }
            if (!info.hung && info.events.containsKey("start") && !info.events.containsKey("closed")) {
                note("  " + name + ": the child JVM did not reach the end of its run (rc=" + info.rc + ")");
            }
            emit(base + ".orphans_after_parent_exit", info.orphans.size(), "processes");
            if (!info.orphans.isEmpty()) {
                note("  " + name + ": orphaned workers (pid,ppid,state)=" + describe(info.orphans)
                        + " -> killed by pid; still alive after cleanup: " + describe(info.orphansAfterCleanup));
            }
        }
    }

    // ================================================================================= profiling loop

    /**
     * {@code --profile WORKLOAD SECONDS}: runs one process-mode workload (full size) over and over for
     * about SECONDS on one warmed pool, so that a sampling profiler sees only it (bench/profile.sh).
     */
    static void profileLoop(String workload, double seconds) {
        SerializableFunction<Long, Long> square = BenchTasks::square;
        SerializableFunction<Long, Long> identity = BenchTasks::identity;
        SerializableFunction<Long, Long> countPrimes = BenchTasks::countPrimes;
        SerializableFunction<byte[], byte[]> identityBytes = BenchTasks::identityBytes;
        List<byte[]> payloads = new ArrayList<>();
        int items = workload.equals("bytes.1MiB") ? 100 : workload.equals("bytes.64KiB") ? 1000 : 0;
        for (int i = 0; i < items; i++) {
            byte[] b = new byte[items == 100 ? 1 << 20 : 64 << 10];
            Arrays.fill(b, (byte) i);
            payloads.add(b);
        }
        List<Long> cpuInputs = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            cpuInputs.add(workload.equals("cpu_bound_heavy") ? 400_000L : 40_000L);
        }
        try (ProcessPool pool = warmPool(PoolMode.PROCESSES, p -> p.map(square, range(1000)))) {
            Supplier<Integer> once = switch (workload) {
                case "tiny_map.chunk_default" -> () -> pool.map(square, range(1_000_000), 125_000).size();
                case "tiny_map.chunk1" -> () -> pool.map(square, range(20_000), 1).size();
                case "apply_latency" -> () -> {
                    for (long i = 0; i < 2_000; i++) {
                        pool.apply(identity, i);
                    }
                    return 2_000;
                };
                case "cpu_bound", "cpu_bound_heavy" -> () -> pool.map(countPrimes, cpuInputs, 1).size();
                case "bytes.1MiB", "bytes.64KiB" -> () -> pool.map(identityBytes, payloads, 1).size();
                case "imap" -> () -> {
                    try (ResultIterator<Long> it = pool.imap(square, generator(2_000_000), 1000)) {
                        sum(() -> it);
                    }
                    return 2_000_000;
                };
                default -> throw new IllegalArgumentException("unknown workload " + workload + "; one of "
                        + "tiny_map.chunk_default tiny_map.chunk1 apply_latency cpu_bound cpu_bound_heavy bytes.1MiB "
                        + "bytes.64KiB imap");
            };
            List<Long> workerPids = pids(pool);
            long[] parent0 = procCounters(ProcessHandle.current().pid());
            List<long[]> workers0 = new ArrayList<>();
            workerPids.forEach(pid -> workers0.add(procCounters(pid)));
            double t0 = now();
            long tasks = 0;
            int rounds = 0;
            while (now() - t0 < seconds) {
                tasks += once.get();
                rounds++;
            }
            double dt = now() - t0;
            long[] parent1 = procCounters(ProcessHandle.current().pid());
            note(String.format("profile %s: %d rounds, %d tasks in %.1f s = %.0f tasks/s", workload, rounds, tasks, dt,
                    tasks / dt));
            note("profile " + describeCounters("parent", parent0, parent1, tasks, dt));
            for (int i = 0; i < workerPids.size(); i++) {
                long[] w1 = procCounters(workerPids.get(i));
                note("profile " + describeCounters("worker pid " + workerPids.get(i), workers0.get(i), w1, tasks, dt));
            }
        }
    }

    /** {utime+stime in clock ticks, voluntary context switches, involuntary ones} of a process; zeros if gone. */
    static long[] procCounters(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            long vol = 0;
            long invol = 0;
            try (var tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
                for (Path task : tasks) {
                    List<String> lines;
                    try {
                        lines = Files.readAllLines(task.resolve("status"));
                    } catch (IOException gone) {
                        continue;
                    }
                    for (String line : lines) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            vol += Long.parseLong(line.split("\\s+")[1]);
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            invol += Long.parseLong(line.split("\\s+")[1]);
                        }
                    }
                }
            }
            return new long[] {ticks, vol, invol}; // switches of threads that ended meanwhile are lost
        } catch (IOException | RuntimeException e) {
            return new long[3];
        }
    }

    static String describeCounters(String who, long[] a, long[] b, long tasks, double seconds) {
        double cpuSeconds = (b[0] - a[0]) / 100.0; // USER_HZ is 100 on Linux
        return String.format("%s: CPU %.2f s of %.1f s wall (%.0f%% of one core), %.2f us CPU/task, "
                        + "%.3f voluntary + %.3f involuntary context switches/task", who, cpuSeconds, seconds,
                100 * cpuSeconds / seconds, cpuSeconds * 1e6 / tasks, (b[1] - a[1]) / (double) tasks,
                (b[2] - a[2]) / (double) tasks);
    }

    // ================================================================================= main

    interface Section {
        void run(Cfg cfg) throws Exception;
    }

    static final Map<String, Section> SECTIONS = new LinkedHashMap<>();

    static {
        SECTIONS.put("startup", PoolBench::benchStartup);
        SECTIONS.put("tiny_map", PoolBench::benchTinyMap);
        SECTIONS.put("apply_latency", PoolBench::benchApplyLatency);
        SECTIONS.put("cpu_bound", PoolBench::benchCpuBound);
        SECTIONS.put("bytes_throughput", PoolBench::benchBytes);
        SECTIONS.put("big_result", PoolBench::benchBigResult);
        SECTIONS.put("broadcast", PoolBench::benchBroadcast);
        SECTIONS.put("imap", PoolBench::benchImap);
        SECTIONS.put("crash", PoolBench::benchCrash);
        SECTIONS.put("spares", SparesBench::run);
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        String only = "";
        String childImap = null;
        String childCrash = null;
        String childBigResult = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--only" -> only = args[++i];
                case "--child-imap" -> childImap = args[++i];
                case "--child-crash" -> childCrash = args[++i];
                case "--child-big-result" -> childBigResult = args[++i];
                case "--profile" -> {
                    profileLoop(args[i + 1], Double.parseDouble(args[i + 2]));
                    return;
                }
                default -> {
                    if (args[i].startsWith("--only=")) {
                        only = args[i].substring("--only=".length());
                    } else {
                        System.err.println("usage: PoolBench [--quick] [--only " + String.join(",", SECTIONS.keySet()) + "]");
                        System.exit(2);
                    }
                }
            }
        }
        Cfg cfg = new Cfg(quick);
        if (childImap != null) {
            childImap(cfg, childImap);
            return;
        }
        if (childCrash != null) {
            childCrash(cfg, childCrash);
            return;
        }
        if (childBigResult != null) {
            childBigResult(cfg, childBigResult);
            return;
        }
        List<String> selected = new ArrayList<>();
        for (String s : only.split(",")) {
            if (!s.isEmpty()) {
                if (!SECTIONS.containsKey(s)) {
                    System.err.println("unknown section " + s + "; sections: " + SECTIONS.keySet());
                    System.exit(2);
                }
                selected.add(s);
            }
        }
        note("pool_bench (Java): java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name")
                + "), " + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", availableProcessors="
                + Runtime.getRuntime().availableProcessors() + ", maxHeap=" + Runtime.getRuntime().maxMemory() / (1 << 20)
                + " MiB, W=" + W + ", quick=" + quick + ", JVM options " + ManagementFactory.getRuntimeMXBean().getInputArguments());
        double tAll = now();
        for (Map.Entry<String, Section> s : SECTIONS.entrySet()) {
            if (!selected.isEmpty() && !selected.contains(s.getKey())) {
                continue;
            }
            double t0 = now();
            s.getValue().run(cfg);
            note(String.format("[section %s took %.1f s]", s.getKey(), now() - t0));
        }
        long left = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count();
        note(String.format("[total %.1f s; child processes still alive at the end: %d]", now() - tAll, left));
    }
}
