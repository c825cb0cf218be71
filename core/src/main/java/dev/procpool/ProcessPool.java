package dev.procpool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
public final class ProcessPool implements Pool {
    private static final Logger log = LoggerFactory.getLogger(ProcessPool.class);
    /** How long AUTO mode waits for a first worker JVM before it settles on threads. */
    private static final Duration AUTO_START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final long SPIN_NANOS = 50_000;

    private enum State { OPEN, CLOSING, CLOSED, TERMINATED }

    private final WorkerSettings settings;
    private final PoolCounters counters = new PoolCounters();
    private final FunctionCache functions = new FunctionCache();
    private final Set<Job> active = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Scheduler scheduler;
    private final Backend backend;
    private final ProgressReporter progress;
    private volatile ProcessPoolException broken;
    private State state = State.OPEN;

    private ProcessPool(Builder builder) {
        this.settings = builder.settings();
        this.progress = builder.progress == null ? null : new ProgressReporter(builder.progress);
        Scheduler chosenScheduler = new Scheduler();
        Backend chosen;
        switch (builder.mode) {
            case THREADS -> chosen = new ThreadBackend(settings, chosenScheduler, this::breakPool);
            case PROCESSES -> chosen = new ProcessBackend(settings, chosenScheduler, counters, this::breakPool);
            default -> {
                ProcessBackend processes = new ProcessBackend(settings, chosenScheduler, counters, this::breakPool);
                if (awaitFirstWorker(processes)) {
                    chosen = processes;
                } else {
                    ProcessPoolException reason = processes.brokenReason();
                    processes.terminate();
                    log.warn("procpool: worker JVMs cannot start, running on threads instead: {}",
                            reason == null ? "no worker was ready within " + AUTO_START_TIMEOUT : reason.getMessage());
                    broken = null;
                    chosenScheduler = new Scheduler();
                    chosen = new ThreadBackend(settings, chosenScheduler, this::breakPool);
                }
            }
        }
        this.scheduler = chosenScheduler;
        this.backend = chosen;
    }

    private static boolean awaitFirstWorker(ProcessBackend processes) {
        try {
            return processes.awaitFirstReady(AUTO_START_TIMEOUT);
        } catch (InterruptedException e) {
            processes.terminate();
            Thread.currentThread().interrupt();
            throw new ProcessPoolException("interrupted while starting the pool", e);
        }
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
     * Where this pool runs its tasks.
     *
     * @return {@link PoolMode#PROCESSES} or {@link PoolMode#THREADS}, never {@code AUTO}
     */
    @Override
    public PoolMode mode() {
        return backend.mode();
    }

    /**
     * How many workers the pool keeps running.
     *
     * @return the number of worker JVMs (or threads)
     */
    public int workers() {
        return settings.workers();
    }

    /**
     * A snapshot of the pool's counters and live workers; never blocks on running tasks.
     *
     * @return the counters since the pool was built
     */
    @Override
    public PoolStats stats() {
        return new PoolStats(mode(), backend.workers(), counters.succeeded.get(), counters.failed.get(),
                counters.retried.get(), counters.crashes.get(), counters.timeouts.get(),
                counters.workersStarted.get(), counters.recycled.get());
    }

    // ------------------------------------------------------------------------------------ calls

    /**
     * Applies {@code function} to every input in worker JVMs and returns the results in input order
     * ({@code Pool.map}; {@code map(function, inputs)} is this with chunk size 0). With chunk size 0,
     * inputs are cut into chunks of about {@code size / (4 × workers)}, Python's rule. Blocks until
     * every result is in.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply; sent to every worker once per call
     * @param inputs    the inputs, read once, before the call returns (null elements are fine)
     * @param chunkSize inputs sent to a worker at once; {@code 0} for the default rule
     * @return the results, one per input, in input order
     * @throws TaskFailedException      the task for some input threw (the lowest such index)
     * @throws WorkerCrashedException   a worker died running some input's task
     * @throws TaskTimeoutException     some input's task ran past the task timeout
     * @throws ProcessPoolException     an input, result or the function cannot be serialized; the pool is
     *                                  broken; or the caller was interrupted
     * @throws IllegalStateException    the pool is closed or terminated
     * @throws IllegalArgumentException {@code chunkSize} is negative
     */
    @Override
    public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
            int chunkSize) {
        return await(mapAsync(function, inputs, chunkSize));
    }

    /**
     * As {@link #map(SerializableFunction, Iterable, int)} without blocking ({@code Pool.map_async}).
     * {@code cancel(false)} on the future drops the work not yet started; {@code cancel(true)} also
     * stops the running tasks (their worker JVMs are killed and replaced, or their threads interrupted).
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs
     * @param chunkSize inputs sent to a worker at once; {@code 0} for the default rule
     * @return a future of the results in input order, or of the failure {@code map} would throw
     */
    @Override
    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        Objects.requireNonNull(function, "function");
        return submitAll(function, toArray(Objects.requireNonNull(inputs, "inputs")), chunkSize);
    }

    /**
     * Applies a two-argument function to every pair ({@code Pool.starmap}). Blocks and throws as
     * {@link #map(SerializableFunction, Iterable)}.
     *
     * @param <A>      the first argument's type
     * @param <B>      the second argument's type
     * @param <R>      the result type
     * @param function what to apply to each pair's key and value
     * @param pairs    the argument pairs, e.g. {@code Map.entry(a, b)}
     * @return the results in input order
     */
    @Override
    public <A, B, R> List<R> starmap(SerializableBiFunction<? super A, ? super B, ? extends R> function,
            Iterable<? extends Map.Entry<? extends A, ? extends B>> pairs) {
        Objects.requireNonNull(function, "function");
        return await(submitAll(function, toArray(Objects.requireNonNull(pairs, "pairs")), 0));
    }

    /**
     * Runs {@code function(argument)} in a worker and returns its result ({@code Pool.apply}). Blocks
     * and throws as {@link #map(SerializableFunction, Iterable)}.
     *
     * @param <T>      the argument type
     * @param <R>      the result type
     * @param function what to apply
     * @param argument its argument (may be null)
     * @return the result
     */
    @Override
    public <T, R> R apply(SerializableFunction<? super T, ? extends R> function, T argument) {
        Objects.requireNonNull(function, "function");
        List<R> result = await(submitAll(function, new Object[] {argument}, 1));
        return result.get(0);
    }

    /**
     * Runs {@code task} in a worker without blocking ({@code Pool.apply_async}).
     * {@code cancel(true)} on a running task kills its worker in process mode (a replacement starts)
     * and interrupts its thread in thread mode; {@code cancel(false)} only drops it if not started.
     *
     * @param <R>  the result type
     * @param task what to run
     * @return a future of its result, or of the {@link ProcessPoolException} {@code apply} would throw
     */
    @Override
    public <R> CompletableFuture<R> submit(SerializableCallable<? extends R> task) {
        Objects.requireNonNull(task, "task");
        JobFuture<List<R>> all = submitAll(task, new Object[] {null}, 1);
        return all.derive(list -> list.get(0));
    }

    /**
     * As {@link #submit(SerializableCallable)} for a task without a result.
     *
     * @param task what to run
     * @return a future that completes with null when the task is done
     */
    @Override
    public CompletableFuture<Void> submit(SerializableRunnable task) {
        Objects.requireNonNull(task, "task");
        JobFuture<List<Void>> all = submitAll(task, new Object[] {null}, 1);
        return all.derive(list -> null);
    }

    /**
     * Applies {@code function} to the inputs lazily, yielding results in input order
     * ({@code Pool.imap}; {@code imap(function, inputs)} is this with chunk size 0). The input is read
     * on a library thread, a few chunks per worker ahead of the consumer, so an endless input works in
     * constant memory. With chunk size 0, a known size (a {@link Collection}) gets the {@code map} rule
     * and an unknown one adapts: chunks grow while tasks are short. Returns at once; see
     * {@link ResultIterator} for blocking, failures and cancellation.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs, read lazily
     * @param chunkSize inputs sent to a worker at once; {@code 0} for the default
     * @return the results, in input order
     */
    @Override
    public <T, R> ResultIterator<R> imap(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        return startImap(function, inputs, chunkSize, true);
    }

    /**
     * As {@link #imap(SerializableFunction, Iterable, int)}, but results come in completion order
     * ({@code Pool.imap_unordered}); a failure is thrown by {@code next()} when it arrives.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs, read lazily
     * @param chunkSize inputs sent to a worker at once; {@code 0} for the default
     * @return the results, in completion order
     */
    @Override
    public <T, R> ResultIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        return startImap(function, inputs, chunkSize, false);
    }

    @SuppressWarnings("unchecked")
    private <R> ResultIterator<R> startImap(Object function, Iterable<?> inputs, int chunkSize, boolean ordered) {
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(inputs, "inputs");
        checkChunkSize(chunkSize);
        int size = chunkSize;
        if (size == 0 && inputs instanceof Collection<?> known) {
            size = defaultChunkSize(known.size(), settings.workers());
        }
        ImapJob job = new ImapJob(function, inputs.iterator(), ordered, size, settings.workers(), this::dispatch, counters,
                functions);
        submit(job);
        ResultIterator<?> results = job.start();
        return (ResultIterator<R>) results;
    }

    /**
     * This pool as an {@link java.util.concurrent.ExecutorService}, for code that expects one. Tasks
     * must be {@link java.io.Serializable} (e.g. lambdas typed {@link SerializableCallable} or
     * {@link SerializableRunnable}) in process mode, else they are rejected with
     * {@link java.util.concurrent.RejectedExecutionException}. Its futures fail with an
     * {@code ExecutionException} whose cause is the pool's {@link ProcessPoolException}. Shutting the
     * executor down closes the pool; {@code shutdownNow()} terminates it and returns an empty list.
     *
     * @return a view of this pool; it holds no resources of its own
     */
    public java.util.concurrent.ExecutorService asExecutorService() {
        return new PoolExecutorService(this);
    }

    @SuppressWarnings("unchecked")
    private <R> JobFuture<List<R>> submitAll(Object function, Object[] inputs, int chunkSize) {
        checkChunkSize(chunkSize);
        int size = chunkSize > 0 ? chunkSize : defaultChunkSize(inputs.length, settings.workers());
        MapJob job = new MapJob(function, inputs, size, counters, functions);
        job.future.onInterrupt(() -> backend.interruptRunning(job));
        submit(job);
        JobFuture<?> future = job.future;
        return (JobFuture<List<R>>) future;
    }

    private static void checkChunkSize(int chunkSize) {
        if (chunkSize < 0) {
            throw new IllegalArgumentException("chunkSize must be >= 0 (0: default), got " + chunkSize);
        }
    }

    /** Python's rule: about four chunks per worker, at least one input per chunk. */
    static int defaultChunkSize(int inputs, int workers) {
        long perChunk = ((long) inputs + 4L * workers - 1) / (4L * workers);
        return (int) Math.max(1, perChunk);
    }

    private void submit(Job job) {
        synchronized (this) {
            if (state != State.OPEN) {
                throw new IllegalStateException("the pool is " + state.name().toLowerCase());
            }
            ProcessPoolException reason = broken;
            if (reason != null) {
                throw new ProcessPoolException("the pool is broken: " + reason.getMessage(), reason);
            }
            if (job.isFinished()) {
                return;
            }
            active.add(job);
        }
        job.completion().whenComplete((r, e) -> active.remove(job));
        if (progress != null) {
            progress.watch(job);
        }
        scheduler.add(job);
        dispatch();
        ProcessPoolException reason = broken;
        if (reason != null) { // broke while we were submitting
            job.failAll(new ProcessPoolException("the pool is broken: " + reason.getMessage(), reason));
        }
    }

    private void stopProgress() {
        if (progress != null) {
            progress.stop();
        }
    }

    private void dispatch() {
        backend.dispatch();
    }

    private static Object[] toArray(Iterable<?> inputs) {
        if (inputs instanceof Collection<?> collection) {
            return collection.toArray();
        }
        List<Object> list = new ArrayList<>();
        inputs.forEach(list::add);
        return list.toArray();
    }

    private static <R> R await(CompletableFuture<R> future) {
        spinBriefly(future);
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.completeExceptionally(new ProcessPoolException("cancelled: the caller was interrupted", e));
            Thread.currentThread().interrupt();
            throw new ProcessPoolException("interrupted while waiting for results; the call was cancelled", e);
        } catch (ExecutionException e) {
            throw rethrowHere(e.getCause());
        }
    }

    /**
     * A short call's answer often comes within a few tens of microseconds, less than it takes to park
     * and wake the caller: look for it first, at the cost of at most {@link #SPIN_NANOS} of CPU.
     */
    private static void spinBriefly(CompletableFuture<?> future) {
        long until = System.nanoTime() + SPIN_NANOS;
        while (!future.isDone() && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    /** The failure was made on a library thread: give it the caller's stack, which is where it is seen. */
    static RuntimeException rethrowHere(Throwable failure) {
        if (failure instanceof ProcessPoolException p) {
            p.setStackTrace(new Throwable().getStackTrace());
            return p;
        }
        return new ProcessPoolException(String.valueOf(failure.getMessage()), failure);
    }

    private void breakPool(ProcessPoolException reason) {
        broken = reason;
        for (Job job : active) {
            job.failAll(new ProcessPoolException("the pool is broken: " + reason.getMessage(), reason));
        }
    }

    // -------------------------------------------------------------------------------- lifecycle

    /**
     * Finishes all queued and running work, stops the workers and waits for them to exit
     * ({@code Pool.close(); Pool.join()}). Lazy calls ({@code imap}) stop reading their input: the
     * inputs already read are run and their results stay readable, then the iterator throws a
     * {@link ProcessPoolException} saying the input was cut short; so an endless or abandoned iteration
     * cannot hold {@code close()} forever. Idempotent; concurrent callers all wait for the end.
     * Interruptible: an interrupted close terminates the pool and keeps the interrupt flag set.
     */
    @Override
    public void close() {
        if (beginClose()) {
            finishClose();
        } else {
            try {
                closed.get();
            } catch (InterruptedException e) {
                terminate();
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
    }

    /** Starts an orderly close and returns at once ({@code ExecutorService.shutdown()}). */
    void closeInBackground() {
        if (beginClose()) {
            Thread closer = new Thread(this::finishClose, "procpool-close");
            closer.setDaemon(true);
            closer.start();
        }
    }

    private synchronized boolean beginClose() {
        if (state != State.OPEN) {
            return false;
        }
        state = State.CLOSING;
        return true;
    }

    private void finishClose() {
        try {
            List<Job> pending = List.copyOf(active);
            pending.forEach(Job::stopReading);
            for (Job job : pending) {
                try {
                    job.drained().get();
                } catch (ExecutionException | java.util.concurrent.CancellationException ignored) {
                    // the caller of that job sees its failure
                }
            }
            backend.shutdown(System.nanoTime() + CLOSE_TIMEOUT.toNanos());
            stopProgress();
            synchronized (this) {
                if (state == State.CLOSING) {
                    state = State.CLOSED;
                }
            }
            closed.complete(null);
        } catch (InterruptedException e) {
            terminate();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether the pool takes no more calls.
     *
     * @return true once {@link #close()} or {@link #terminate()} was called
     */
    @Override
    public synchronized boolean isShutdown() {
        return state != State.OPEN;
    }

    /**
     * Whether the pool has stopped.
     *
     * @return true once the pool has stopped and every worker has exited
     */
    public boolean isTerminated() {
        return closed.isDone();
    }

    /**
     * Waits for the pool to stop after {@link #close()} or {@link #terminate()}.
     *
     * @param timeout how long to wait at most
     * @return true if the pool stopped, false if the time ran out
     * @throws InterruptedException the waiting thread was interrupted
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        try {
            closed.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /**
     * Kills every worker now and fails all pending work with a {@link ProcessPoolException}
     * ({@code Pool.terminate()}). Idempotent; returns within a few seconds at most.
     */
    @Override
    public void terminate() {
        synchronized (this) {
            if (state == State.TERMINATED || state == State.CLOSED) {
                return;
            }
            state = State.TERMINATED;
        }
        ProcessPoolException reason = new ProcessPoolException("the pool was terminated");
        for (Job job : active) {
            job.failAll(reason);
        }
        backend.terminate();
        stopProgress();
        closed.complete(null);
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
            return new ProcessPool(this);
        }

        WorkerSettings settings() {
            return new WorkerSettings(workers, javaExecutable != null ? javaExecutable : WorkerCommand.defaultJava(),
                    classPath, List.copyOf(jvmOptions), Map.copyOf(environment), workingDirectory, initializer,
                    maxTasksPerWorker, taskTimeout, startTimeout, retries);
        }
    }
}
