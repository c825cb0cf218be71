package dev.procpool;

import dev.procpool.internal.engine.Engine;
import dev.procpool.internal.engine.EnginePool;
import dev.procpool.internal.process.ProcessEngine;
import dev.procpool.internal.engine.Durations;
import dev.procpool.internal.engine.LogFallback;
import dev.procpool.internal.process.WorkerClassPath;
import dev.procpool.internal.process.WorkerCommand;
import dev.procpool.internal.process.WorkerSettings;
import dev.procpool.internal.thread.ThreadEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Python's {@code multiprocessing.Pool} for the JVM: runs a function over many inputs in worker JVMs
 * (or, in {@link PoolMode#THREADS}, on in-process threads) and returns the results in input order.
 *
 * <pre>{@code
 * try (ProcessPool pool = ProcessPool.builder().workers(4).build()) {
 *     List<Long> squares = pool.map(x -> x * x, List.of(1L, 2L, 3L));
 * }
 * }</pre>
 *
 * <p><b>Blocking calls</b> ({@code Pool.map}, {@code starmap}, {@code apply}) return the results in
 * input order:
 * <pre>{@code
 * List<Integer> lengths = pool.map(String::length, words);
 * List<String> padded  = pool.starmap((w, n) -> w.repeat(n), List.of(Map.entry("ab", 2), Map.entry("c", 3)));
 * int one              = pool.apply(String::length, "hello");
 * }</pre>
 *
 * <p><b>Lazy calls</b> ({@code Pool.imap}, {@code imap_unordered}) read their input a few chunks ahead
 * and stream the results; close the iterator to cancel the rest:
 * <pre>{@code
 * try (ResultIterator<Long> sizes = pool.imap(path -> Files.size(Path.of(path)), lines, 100)) {
 *     while (sizes.hasNext()) total += sizes.next();
 * }
 * }</pre>
 *
 * <p><b>Asynchronous calls</b> ({@code Pool.apply_async}, {@code map_async}) return
 * {@link java.util.concurrent.CompletableFuture}s; {@code cancel(true)} stops a running task by killing its worker:
 * <pre>{@code
 * CompletableFuture<Report> report = pool.submit(() -> buildReport(day));
 * CompletableFuture<List<Long>> all = pool.mapAsync(x -> x * x, inputs);
 * report.get(30, TimeUnit.SECONDS);
 * }</pre>
 *
 * <p><b>Where an {@code ExecutorService} is expected</b>, {@link #asExecutorService()} adapts the pool:
 * <pre>{@code
 * ExecutorService executor = pool.asExecutorService();
 * List<Future<Integer>> futures = executor.invokeAll(List.of((SerializableCallable<Integer>) () -> 1));
 * }</pre>
 *
 * <p><b>Threads.</b> A pool is safe to use from many threads at once; calls are queued in the order
 * they arrive and share the workers.
 *
 * <p><b>Failures.</b> Every failure is a {@link ProcessPoolException} (unchecked) naming the input
 * index: {@link TaskFailedException} when the task threw, {@link WorkerCrashedException} when its
 * worker JVM died while running it, {@link TaskTimeoutException} when it ran past
 * {@link Builder#taskTimeout}. A crashed or killed worker is replaced; the pool goes on. Workers
 * that cannot start (bad JVM option, failing initializer) fail the calls with that reason and the
 * pool stays broken.
 *
 * <p><b>Lifecycle.</b> {@link #close()} finishes queued work, stops the workers and waits for them;
 * {@link #terminate()} kills them now. Both are idempotent; any call after either throws
 * {@link IllegalStateException}. Workers also exit by themselves within about a second when this JVM
 * dies, even by {@code kill -9}.
 *
 * <p><b>Blocking.</b> Calls that return results block until they are complete; they are
 * interruptible: an interrupted caller cancels the rest of its call, gets a
 * {@link ProcessPoolException} and finds its interrupt flag set.
 */
public final class ProcessPool extends EnginePool {
    private static final Logger log = LoggerFactory.getLogger(ProcessPool.class);
    /** How long AUTO mode waits for a first worker JVM before it settles on threads. */
    private static final Duration AUTO_START_TIMEOUT = Duration.ofSeconds(30);
    /** How long AUTO mode remembers that workers with some settings cannot start, instead of trying again. */
    private static final Duration REMEMBER_FAILURE = Duration.ofMinutes(10);
    /** Why AUTO pools with these settings ran on threads, and until when that is trusted. */
    private static final Map<List<Object>, Failure> FAILED_STARTS = new ConcurrentHashMap<>();
    private static final StackWalker STACK = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private record Failure(String reason, long untilNanos) {}

    private final int workers;
    private final String fallbackReason;

    private ProcessPool(Builder builder, WorkerSettings settings, Class<?> caller) {
        this(builder, settings, caller, new AtomicReference<>());
    }

    private ProcessPool(Builder builder, WorkerSettings settings, Class<?> caller, AtomicReference<String> fallback) {
        super(builder.progress(), context -> startEngine(builder.mode, settings, caller, context, fallback));
        this.workers = settings.workers();
        this.fallbackReason = fallback.get();
    }

    private static Engine startEngine(PoolMode mode, WorkerSettings settings, Class<?> caller, EngineContext context,
            AtomicReference<String> fallback) {
        return switch (mode) {
            case THREADS -> new ThreadEngine(settings, context);
            case PROCESSES -> new ProcessEngine(settings, context);
            case AUTO -> processesOrThreads(settings, caller, context, fallback);
        };
    }

    /**
     * AUTO: worker JVMs when the first one becomes ready, having loaded the class that built the pool,
     * else threads, with one WARN line. A failure is remembered for a while for the same settings: later
     * AUTO pools go straight to threads instead of starting JVMs that fail again.
     */
    private static Engine processesOrThreads(WorkerSettings settings, Class<?> caller, EngineContext context,
            AtomicReference<String> fallback) {
        List<Object> key = Arrays.asList(settings.javaExecutable(), settings.classPath(), settings.jvmOptions(),
                settings.environment(), settings.workingDirectory(), caller == null ? null : caller.getName());
        Failure known = FAILED_STARTS.get(key);
        if (known != null && known.untilNanos - System.nanoTime() > 0) {
            log.debug("procpool: running on threads: worker JVMs with these settings failed {} ago: {}",
                    "less than " + REMEMBER_FAILURE.toMinutes() + " min", known.reason);
            fallback.set(known.reason);
            return new ThreadEngine(settings, context);
        }
        // While it is on trial, a failure to start is the fallback's reason, not a broken pool.
        AtomicReference<ProcessPoolException> failure = new AtomicReference<>();
        AtomicReference<Consumer<ProcessPoolException>> breaks = new AtomicReference<>(failure::set);
        ProcessEngine processes = new ProcessEngine(probing(settings, caller),
                new EngineContext(context.scheduler(), context.counters(), reason -> breaks.get().accept(reason)), true);
        boolean ready;
        try {
            ready = processes.awaitFirstReady(AUTO_START_TIMEOUT);
        } catch (InterruptedException e) {
            processes.terminate();
            Thread.currentThread().interrupt();
            throw new ProcessPoolException("interrupted while starting the pool", e);
        }
        if (ready) {
            breaks.set(context.breakPool());
            processes.endTrial();
            if (failure.get() != null) {
                context.breakPool().accept(failure.get());
            }
            return processes;
        }
        processes.terminate();
        ProcessPoolException cause = failure.get();
        String reason = cause == null ? "no worker JVM was ready within " + Durations.human(AUTO_START_TIMEOUT)
                : explain(cause.getMessage(), caller, settings);
        FAILED_STARTS.put(key, new Failure(reason, System.nanoTime() + REMEMBER_FAILURE.toNanos()));
        fallback.set(reason);
        String oneLine = reason.replaceAll("\\s*\\R\\s*", " | ");
        if (oneLine.length() > 400) {
            oneLine = oneLine.substring(0, 400) + "... (all of it in ProcessPool.fallbackReason())";
        }
        LogFallback.warn(log, "procpool: running on threads instead of worker JVMs: " + oneLine);
        log.debug("procpool: why workers could not serve: {}", reason);
        return new ThreadEngine(settings, context);
    }

    /**
     * The settings of an AUTO trial: the initializer also carries the class that built the pool, so a
     * worker that becomes ready has shown it can load the caller's classes (reading the initializer loads
     * that class), and one that cannot fails its start with the reason.
     */
    private static WorkerSettings probing(WorkerSettings settings, Class<?> caller) {
        if (caller == null || caller.getClassLoader() == null) {
            return settings;
        }
        SerializableRunnable initializer = settings.initializer();
        Class<?> probe = caller;
        SerializableRunnable probed = () -> {
            Objects.requireNonNull(probe); // captured: reading this lambda in a worker loads the caller's class
            if (initializer != null) {
                initializer.run();
            }
        };
        return new WorkerSettings(settings.workers(), settings.javaExecutable(), settings.classPath(),
                settings.jvmOptions(), settings.environment(), settings.workingDirectory(), probed,
                settings.maxTasksPerWorker(), settings.taskTimeout(), settings.startTimeout(), settings.retries(),
                settings.livenessTimeout(), settings.spareWorkers(), settings.spareIdleTime());
    }

    private static String explain(String failure, Class<?> caller, WorkerSettings settings) {
        if (caller != null && failure.contains(caller.getName())) {
            return "worker JVMs start but cannot load " + caller.getName() + " (the class that built the pool, from "
                    + caller.getClassLoader() + "); give its jars with Builder.classPath(...). The worker said: "
                    + failure + "; their class path: " + settings.classPath();
        }
        return failure;
    }

    /**
     * Why this pool runs on threads although it was built in {@link PoolMode#AUTO} mode: the worker JVMs
     * could not start (the reason their start failed, with what the JVM said), did not become ready in
     * time, or started but could not load the classes of the code that built the pool. Empty when the
     * pool runs as asked. The same reason is logged once at WARN (on stderr when SLF4J has no provider);
     * a failure is remembered for ten minutes for pools with the same settings, which go straight to
     * threads without starting JVMs again.
     *
     * @return the reason AUTO mode chose threads, or empty
     */
    public Optional<String> fallbackReason() {
        return Optional.ofNullable(fallbackReason);
    }

    /**
     * A builder with the defaults: one worker per available processor, {@link PoolMode#PROCESSES}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * How many workers the pool keeps running.
     *
     * @return the number of worker JVMs (or threads)
     */
    public int workers() {
        return workers;
    }

    // ---------------------------------------------------------------------------------- builder

    /**
     * Configures a {@link ProcessPool}. Every option has a default; {@link #build()} starts the workers
     * (without waiting for them, except in {@link PoolMode#AUTO}). The options every pool has are in
     * {@link PoolBuilder}. Not thread-safe.
     */
    public static final class Builder extends PoolBuilder<ProcessPool, Builder> {
        private int workers = Runtime.getRuntime().availableProcessors();
        private Path workingDirectory;
        private Path javaExecutable;
        private List<Path> classPath;
        private Duration startTimeout = Duration.ofSeconds(60);
        private Duration livenessTimeout = Duration.ofSeconds(30);
        private PoolMode mode = PoolMode.PROCESSES;
        /** -1: as many as {@link #workers}. */
        private int spareWorkers = -1;
        private Duration spareIdleTime = Duration.ofSeconds(10);

        private Builder() {}

        /**
         * Number of worker JVMs (or threads). Default: available processors.
         *
         * @param workers at least 1
         * @return this builder
         * @throws IllegalArgumentException {@code workers} is less than 1
         */
        public Builder workers(int workers) {
            this.workers = atLeast("workers", workers, 1);
            return this;
        }

        /**
         * Working directory of every worker. Default: this JVM's.
         *
         * @param directory an existing directory
         * @return this builder
         */
        public Builder workingDirectory(Path directory) {
            this.workingDirectory = Objects.requireNonNull(directory, "directory");
            return this;
        }

        /**
         * The {@code java} executable that starts workers (Java 17 or newer). Default: this JVM's own
         * ({@code java.home}).
         *
         * @param java path of the executable
         * @return this builder
         */
        public Builder javaExecutable(Path java) {
            this.javaExecutable = Objects.requireNonNull(java, "java");
            return this;
        }

        /**
         * The class path of every worker (jars and class folders), replacing the one procpool finds.
         * Default: decided by {@link #build()}, from the class loaders of the building thread (its context
         * class loader) and of the class that calls {@code build()}, with their parents: the URLs of each
         * {@link java.net.URLClassLoader} (plugin hosts, Maven's class realms, Spring Boot's loader, whose
         * nested jars are extracted into a cache) and the application class path and module path. The
         * workers keep it for their life: a function from a loader neither of those sees does not get
         * that loader's jars. procpool's own code is always added in front.
         *
         * @param entries the class path entries, in order
         * @return this builder
         */
        public Builder classPath(List<Path> entries) {
            this.classPath = List.copyOf(entries);
            return this;
        }

        /**
         * How long a worker JVM may take to become ready, its initializer included. A worker still
         * starting after it breaks the pool with that reason (every call fails) instead of leaving
         * calls waiting. Default: 60 seconds.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException {@code timeout} is zero or negative
         */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = positive("startTimeout", timeout);
            return this;
        }

        /**
         * How long a worker JVM may stay silent before it is given up as frozen or stuck. A worker that
         * has sent nothing for a while is asked for a heartbeat, which it answers even while a task
         * computes; one that sends no frame and answers no heartbeat for this long is killed and handled
         * as a crash ("unresponsive"): the task it was running fails with {@link WorkerCrashedException}
         * (or is retried), the tasks queued on it that it had not started run on other workers, and a
         * replacement starts. So with {@link #taskTimeout} set no task waits much longer than the task
         * timeout plus this between being sent and its outcome, and {@code close()} never waits on a
         * frozen worker longer than this. Default: 30 seconds.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException {@code timeout} is zero or negative
         */
        public Builder livenessTimeout(Duration timeout) {
            this.livenessTimeout = positive("livenessTimeout", timeout);
            return this;
        }

        /**
         * How many started worker JVMs to keep ready, beyond the pool's own, while the pool is open: they
         * take the place of a worker that crashes, times out or is recycled at once (no JVM start in the
         * way), and a later pool with the same JVM settings ({@code java}, class path, JVM options,
         * environment, working directory) in this JVM takes them for its workers. A spare has run no
         * pool's code: the initializer runs in it when a pool takes it, and nothing of one pool reaches
         * another. Spares are started in the background once the pool's own workers are ready, one at a
         * time; pools with the same settings share them (the largest count wins). They cost memory (a
         * JVM each; {@link ProcessPool#stats()} lists them), stay {@link #spareIdleTime} after the last
         * such pool closes, die with this JVM (also on {@code kill -9}), and are never stopped by a pool's
         * {@code close()} or {@code terminate()}. Default: as many as {@link #workers}; 0 keeps none.
         *
         * @param spares 0 or more
         * @return this builder
         * @throws IllegalArgumentException {@code spares} is negative
         */
        public Builder spareWorkers(int spares) {
            this.spareWorkers = atLeast("spareWorkers", spares, 0);
            return this;
        }

        /**
         * How long the spare worker JVMs (see {@link #spareWorkers}) stay after the last pool with these
         * JVM settings closed, for a pool built meanwhile; then they are stopped. Default: 10 seconds.
         *
         * @param idle zero or more
         * @return this builder
         * @throws IllegalArgumentException {@code idle} is negative
         */
        public Builder spareIdleTime(Duration idle) {
            Objects.requireNonNull(idle, "idle");
            if (idle.isNegative()) {
                throw new IllegalArgumentException("spareIdleTime must not be negative: " + idle);
            }
            this.spareIdleTime = idle;
            return this;
        }

        /**
         * Where tasks run. Default: {@link PoolMode#PROCESSES}.
         *
         * @param mode processes, threads, or AUTO (processes when they can start, else threads)
         * @return this builder
         */
        public Builder mode(PoolMode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Builds the pool and starts its workers, waiting for them only in {@link PoolMode#AUTO}.
         *
         * @return the new pool
         */
        @Override
        public ProcessPool build() {
            Class<?> caller = STACK.getCallerClass();
            return new ProcessPool(this, settings(caller), caller);
        }

        private WorkerSettings settings(Class<?> caller) {
            // decided here, once: the loaders of the building thread and of the code that builds the pool
            List<Path> workerClassPath = mode == PoolMode.THREADS ? classPath : WorkerClassPath.resolve(classPath, caller);
            return new WorkerSettings(workers, javaExecutable != null ? javaExecutable : WorkerCommand.defaultJava(),
                    workerClassPath, jvmOptions(), environment(), workingDirectory, initializer(), maxTasksPerWorker(),
                    taskTimeout(), startTimeout, retries(), livenessTimeout,
                    spareWorkers < 0 ? workers : spareWorkers, spareIdleTime);
        }
    }
}
