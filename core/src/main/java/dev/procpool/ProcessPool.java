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

    private final int workers;

    private ProcessPool(Builder builder, WorkerSettings settings) {
        super(builder.progress(), context -> startEngine(builder.mode, settings, context));
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
         * The class path of every worker (jars and class folders). Default: this JVM's own class path
         * and module path. procpool's own code is always added in front.
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
            return new ProcessPool(this, settings());
        }

        private WorkerSettings settings() {
            return new WorkerSettings(workers, javaExecutable != null ? javaExecutable : WorkerCommand.defaultJava(),
                    classPath, jvmOptions(), environment(), workingDirectory, initializer(), maxTasksPerWorker(),
                    taskTimeout(), startTimeout, retries(), livenessTimeout);
        }
    }
}
