package dev.procpool;

import dev.procpool.internal.engine.Engine;
import dev.procpool.internal.engine.EnginePool;
import dev.procpool.internal.process.ProcessEngine;
import dev.procpool.internal.process.WorkerCommand;
import dev.procpool.internal.process.WorkerSettings;
import dev.procpool.internal.thread.ThreadEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * {@link CompletableFuture}s; {@code cancel(true)} stops a running task by killing its worker:
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

    private final int workers;

    private ProcessPool(Builder builder, WorkerSettings settings) {
        super(builder.progress, context -> startEngine(builder.mode, settings, context));
        this.workers = settings.workers();
    }

    private static Engine startEngine(PoolMode mode, WorkerSettings settings, EngineContext context) {
        return switch (mode) {
            case THREADS -> new ThreadEngine(settings, context);
            case PROCESSES -> new ProcessEngine(settings, context);
            case AUTO -> processesOrThreads(settings, context);
        };
    }

    /** AUTO: worker JVMs when the first one becomes ready, else threads (with one WARN line). */
    private static Engine processesOrThreads(WorkerSettings settings, EngineContext context) {
        // While it is on trial, a failure to start is the fallback's reason, not a broken pool.
        AtomicReference<ProcessPoolException> failure = new AtomicReference<>();
        AtomicReference<Consumer<ProcessPoolException>> breaks = new AtomicReference<>(failure::set);
        ProcessEngine processes = new ProcessEngine(settings,
                new EngineContext(context.scheduler(), context.counters(), reason -> breaks.get().accept(reason)));
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
            if (failure.get() != null) {
                context.breakPool().accept(failure.get());
            }
            return processes;
        }
        processes.terminate();
        ProcessPoolException reason = failure.get();
        log.warn("procpool: worker JVMs cannot start, running on threads instead: {}",
                reason == null ? "no worker was ready within " + AUTO_START_TIMEOUT : reason.getMessage());
        return new ThreadEngine(settings, context);
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
     * Configures a {@link ProcessPool}. Every option has a default; {@link #build()} starts the
     * workers (without waiting for them, except in {@link PoolMode#AUTO}). Not thread-safe.
     */
    public static final class Builder {
        private int workers = Runtime.getRuntime().availableProcessors();
        private final List<String> jvmOptions = new ArrayList<>();
        private final Map<String, String> environment = new java.util.LinkedHashMap<>();
        private Path workingDirectory;
        private Path javaExecutable;
        private List<Path> classPath;
        private SerializableRunnable initializer;
        private int maxTasksPerWorker;
        private Duration taskTimeout;
        private Duration startTimeout = Duration.ofSeconds(60);
        private Duration livenessTimeout = Duration.ofSeconds(30);
        private int retries;
        private PoolMode mode = PoolMode.PROCESSES;
        private ProgressListener progress;

        private Builder() {}

        /**
         * Number of worker JVMs (or threads). Default: available processors.
         *
         * @param workers at least 1
         * @return this builder
         * @throws IllegalArgumentException {@code workers} is less than 1
         */
        public Builder workers(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be >= 1, got " + workers);
            }
            this.workers = workers;
            return this;
        }

        /**
         * JVM options for every worker, e.g. {@code "-Xmx512m"}, added to those given before. JVM
         * logging options that would write to stdout ({@code -Xlog:gc}, {@code -verbose:gc}) are
         * pointed at stderr, since stdout carries the worker's channel. Default: none.
         *
         * @param options the options, one per argument
         * @return this builder
         */
        public Builder jvmOptions(String... options) {
            for (String option : options) {
                jvmOptions.add(Objects.requireNonNull(option, "option"));
            }
            return this;
        }

        /**
         * Sets one environment variable for every worker, on top of this JVM's environment.
         *
         * @param name  the variable's name
         * @param value its value
         * @return this builder
         */
        public Builder environment(String name, String value) {
            environment.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
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
         * The class path of every worker (jars and class folders). Default: this JVM's own
         * {@code java.class.path}. procpool's worker launcher is always added in front.
         *
         * @param entries the class path entries, in order
         * @return this builder
         */
        public Builder classPath(List<Path> entries) {
            this.classPath = List.copyOf(entries);
            return this;
        }

        /**
         * Runs once in every worker before its first task, replacement workers included
         * ({@code Pool(initializer=...)}). If it throws, the pool fails with its cause instead of
         * restarting workers; one that does not finish within {@link #startTimeout} fails the pool
         * the same way. Default: none.
         *
         * @param initializer what to run
         * @return this builder
         */
        public Builder initializer(SerializableRunnable initializer) {
            this.initializer = Objects.requireNonNull(initializer, "initializer");
            return this;
        }

        /**
         * Replaces a worker after it ran this many tasks ({@code maxtasksperchild}), so that leaks die
         * with it; no task is lost or run twice. Default: 0, never.
         *
         * @param tasks tasks per worker, or 0 for no limit
         * @return this builder
         * @throws IllegalArgumentException {@code tasks} is negative
         */
        public Builder maxTasksPerWorker(int tasks) {
            if (tasks < 0) {
                throw new IllegalArgumentException("maxTasksPerWorker must be >= 0, got " + tasks);
            }
            this.maxTasksPerWorker = tasks;
            return this;
        }

        /**
         * Hard limit for one task: a task still running after it fails with
         * {@link TaskTimeoutException}; in process mode its worker JVM is killed and replaced, in
         * thread mode its thread is interrupted and abandoned. Default: none.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException {@code timeout} is zero or negative
         */
        public Builder taskTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("taskTimeout must be positive, got " + timeout);
            }
            this.taskTimeout = timeout;
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
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + timeout);
            }
            this.startTimeout = timeout;
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
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("livenessTimeout must be positive, got " + timeout);
            }
            this.livenessTimeout = timeout;
            return this;
        }

        /**
         * How many times a task whose worker crashed is run again, on a fresh worker, before it fails
         * with {@link WorkerCrashedException}. Task exceptions and timeouts are never retried.
         * Default: 0.
         *
         * @param retries 0 or more
         * @return this builder
         * @throws IllegalArgumentException {@code retries} is negative
         */
        public Builder retries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must be >= 0, got " + retries);
            }
            this.retries = retries;
            return this;
        }

        /**
         * Reports the progress of every call with more than one input to {@code listener}, a few
         * times per second and once at its end; {@link ProgressListener#console()} draws a live line
         * on stderr. Default: none.
         *
         * @param listener receives the reports
         * @return this builder
         */
        public Builder progress(ProgressListener listener) {
            this.progress = Objects.requireNonNull(listener, "listener");
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
        public ProcessPool build() {
            return new ProcessPool(this, settings());
        }

        WorkerSettings settings() {
            return new WorkerSettings(workers, javaExecutable != null ? javaExecutable : WorkerCommand.defaultJava(),
                    classPath, List.copyOf(jvmOptions), Map.copyOf(environment), workingDirectory, initializer,
                    maxTasksPerWorker, taskTimeout, startTimeout, retries, livenessTimeout);
        }
    }
}
