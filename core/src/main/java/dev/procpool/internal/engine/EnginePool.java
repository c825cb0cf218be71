package dev.procpool.internal.engine;

import dev.procpool.Pool;
import dev.procpool.PoolMode;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPoolException;
import dev.procpool.ProgressListener;
import dev.procpool.ResultIterator;
import dev.procpool.SerializableBiFunction;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableFunction;
import dev.procpool.SerializableRunnable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Every {@link Pool} call, written once, over an {@link Engine} that each kind of pool supplies (worker
 * JVMs, threads, cluster members).
 *
 * <p><b>Design.</b> A call becomes a {@link Job}: {@link MapJob} when its inputs are known up front
 * ({@code map}, {@code starmap}, {@code apply}, {@code submit}), {@link ImapJob} when they are read
 * lazily ({@code imap}, {@code imapUnordered}). The job is queued on the pool's {@link Scheduler}, and
 * the engine's workers pull chunks from it and hand the outcomes back to the job, from their own threads.
 * This class owns what is the same for every engine: argument checks, chunk sizes, waiting and
 * interruption, where a failure is thrown, the progress reports, and the lifecycle below. An engine
 * owns only its workers: starting, feeding, watching and stopping them.
 *
 * <p><b>Lifecycle.</b> The pool's state moves one way, as {@code ThreadPoolExecutor}'s does:
 * <ul>
 *   <li>{@code OPEN}: calls are accepted.
 *   <li>{@code BROKEN}: the engine cannot run work (workers cannot start, the initializer failed); every
 *       pending call failed with the reason, new calls throw a {@link ProcessPoolException} with it.
 *       Entered from {@code OPEN} when the engine reports it through {@link EngineContext#breakPool}.
 *   <li>{@code CLOSING}: {@link #close()} was called (from {@code OPEN} or {@code BROKEN}); new calls throw
 *       {@link IllegalStateException}; lazy calls stop reading input; the pool waits for the calls it has,
 *       then stops the engine.
 *   <li>{@code CLOSED}: the engine has stopped after an orderly close; {@link #isTerminated()} is true.
 *   <li>{@code TERMINATED}: {@link #terminate()} was called (from any state but {@code CLOSED}), or a
 *       closing thread was interrupted: pending calls failed, the engine was killed.
 * </ul>
 * {@link #isShutdown()} is true from {@code CLOSING} on; {@link #isTerminated()} once {@code CLOSED} or
 * {@code TERMINATED} has been reached and the engine's workers are gone.
 */
public abstract class EnginePool implements Pool {
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final long SPIN_NANOS = 50_000;

    private enum State { OPEN, BROKEN, CLOSING, CLOSED, TERMINATED }

    /** What an engine gets from the pool that owns it. */
    public record EngineContext(Scheduler scheduler, PoolCounters counters, Consumer<ProcessPoolException> breakPool) {}

    /** Starts the engine of a new pool. */
    @FunctionalInterface
    public interface EngineFactory {
        Engine start(EngineContext context);
    }

    private final PoolCounters counters = new PoolCounters();
    private final FunctionCache functions = new FunctionCache();
    private final Scheduler scheduler = new Scheduler();
    private final Set<Job> active = ConcurrentHashMap.newKeySet();
    /** The open handles of {@link #share}, by id: closed with the pool. */
    private final Map<Long, SharedHandle<?>> shared = new ConcurrentHashMap<>();
    /** Completes when close() or terminate() has done its part; the engine may still have tasks ending. */
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final ProgressReporter progress;
    private final Engine engine;

    // Guarded by this.
    private State state = State.OPEN;
    private ProcessPoolException brokenReason;

    /**
     * Starts the engine; if that throws, nothing is left running.
     *
     * @param progress receives progress reports, or null
     * @param factory  starts the engine
     */
    protected EnginePool(ProgressListener progress, EngineFactory factory) {
        this.progress = progress == null ? null : new ProgressReporter(progress);
        this.engine = factory.start(new EngineContext(scheduler, counters, this::breakPool));
    }

    @Override
    public PoolMode mode() {
        return engine.mode();
    }

    @Override
    public PoolStats stats() {
        return new PoolStats(mode(), engine.workers(), counters.succeeded.get(), counters.failed.get(),
                counters.retried.get(), counters.crashes.get(), counters.timeouts.get(),
                counters.workersStarted.get(), counters.recycled.get());
    }

    /** The engine, for the pool that owns it. */
    protected final Engine engine() {
        return engine;
    }

    // ------------------------------------------------------------------------------------ calls

    @Override
    public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
            int chunkSize) {
        return await(mapAsync(function, inputs, chunkSize));
    }

    @Override
    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        Objects.requireNonNull(function, "function");
        checkChunkSize(chunkSize);
        return submitAll(function, toArray(Objects.requireNonNull(inputs, "inputs")), chunkSize);
    }

    @Override
    public <A, B, R> List<R> starmap(SerializableBiFunction<? super A, ? super B, ? extends R> function,
            Iterable<? extends Map.Entry<? extends A, ? extends B>> pairs) {
        Objects.requireNonNull(function, "function");
        return await(submitAll(function, toArray(Objects.requireNonNull(pairs, "pairs")), 0));
    }

    @Override
    public <T, R> R apply(SerializableFunction<? super T, ? extends R> function, T argument) {
        Objects.requireNonNull(function, "function");
        List<R> result = await(submitAll(function, new Object[] {argument}, 1));
        return result.get(0);
    }

    @Override
    public <R> CompletableFuture<R> submit(SerializableCallable<? extends R> task) {
        Objects.requireNonNull(task, "task");
        JobFuture<List<R>> all = submitAll(task, new Object[] {null}, 1);
        return all.derive(list -> list.get(0));
    }

    @Override
    public CompletableFuture<Void> submit(SerializableRunnable task) {
        Objects.requireNonNull(task, "task");
        JobFuture<List<Void>> all = submitAll(task, new Object[] {null}, 1);
        return all.derive(list -> null);
    }

    @Override
    public <T, R> ResultIterator<R> imap(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        return startImap(function, inputs, chunkSize, true);
    }

    @Override
    public <T, R> ResultIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        return startImap(function, inputs, chunkSize, false);
    }

    /**
     * Shares through the engine ({@link Engine#share}), once: the handle's close, or the pool's end,
     * frees it through {@link Engine#unshare}.
     */
    @Override
    public <T> dev.procpool.Shared<T> share(T value) {
        return shareUnder(SharedHandle.newId(), value);
    }

    /**
     * Internal (procpool's cluster members): shares {@code value} under an id another JVM chose, the id
     * that the handles in the tasks this pool will run carry. Sharing an id twice replaces nothing: the
     * first value stays, and the handle returned is a second handle to it.
     */
    public final <T> dev.procpool.Shared<T> shareUnder(long id, T value) {
        Objects.requireNonNull(value, "value");
        checkOpen();
        engine.share(id, value);
        SharedHandle<T> handle = new SharedHandle<>(id, value, this::unshare);
        shared.put(id, handle);
        boolean ended;
        synchronized (this) {
            ended = state == State.CLOSED || state == State.TERMINATED;
        }
        if (ended) { // the pool ended while we shared: its sweep may have missed this one
            endShared();
        }
        return handle;
    }

    private void unshare(long id) {
        if (shared.remove(id) != null) {
            engine.unshare(id);
        }
    }

    /** The pool ended: every handle is closed and its value freed. */
    private void endShared() {
        for (SharedHandle<?> handle : List.copyOf(shared.values())) {
            handle.poolEnded();
            unshare(handle.id());
        }
    }

    private synchronized void checkOpen() {
        if (state == State.BROKEN) {
            throw brokenFailure();
        }
        if (state != State.OPEN) {
            throw new IllegalStateException("the pool is " + state.name().toLowerCase());
        }
    }

    @Override
    public ExecutorService asExecutorService() {
        return new PoolExecutorService(this);
    }

    @SuppressWarnings("unchecked")
    private <R> ResultIterator<R> startImap(Object function, Iterable<?> inputs, int chunkSize, boolean ordered) {
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(inputs, "inputs");
        checkChunkSize(chunkSize);
        int size = chunkSize;
        int parallelism = engine.parallelism();
        if (size == 0 && inputs instanceof Collection<?> known) {
            size = ChunkSizes.forKnownSize(known.size(), parallelism);
        }
        ImapJob job = new ImapJob(function, inputs.iterator(), ordered, size, parallelism, engine::dispatch, counters,
                functions);
        submit(job);
        ResultIterator<?> results = job.start();
        return (ResultIterator<R>) results;
    }

    @SuppressWarnings("unchecked")
    private <R> JobFuture<List<R>> submitAll(Object function, Object[] inputs, int chunkSize) {
        JobFuture<?> future = startMap(function, inputs, chunkSize).future;
        return (JobFuture<List<R>>) future;
    }

    /** Queues a call whose inputs are all known; {@code chunkSize} 0 for the default rule. */
    MapJob startMap(Object function, Object[] inputs, int chunkSize) {
        int size = chunkSize > 0 ? chunkSize : ChunkSizes.forKnownSize(inputs.length, engine.parallelism());
        MapJob job = new MapJob(function, inputs, size, counters, functions);
        job.future.onInterrupt(() -> engine.interruptRunning(job));
        submit(job);
        return job;
    }

    /**
     * Takes a call back before any of its work reached a worker ({@code shutdownNow}): true if it was
     * withdrawn, its future then fails and {@link Job#isWithdrawn()} says why; false if some work started.
     */
    boolean withdraw(Job job) {
        return scheduler.withdraw(job);
    }

    private static void checkChunkSize(int chunkSize) {
        if (chunkSize < 0) {
            throw new IllegalArgumentException("chunkSize must be >= 0 (0: default), got " + chunkSize);
        }
    }

    private void submit(Job job) {
        synchronized (this) {
            if (state == State.BROKEN) {
                throw brokenFailure();
            }
            if (state != State.OPEN) {
                throw new IllegalStateException("the pool is " + state.name().toLowerCase());
            }
            if (job.isFinished()) {
                return;
            }
        }
        ProcessPoolException cannotRun = engine.cannotRun(job);
        if (cannotRun != null) {
            job.failAll(cannotRun);
            return;
        }
        synchronized (this) {
            active.add(job);
        }
        job.completion().whenComplete((r, e) -> active.remove(job));
        if (progress != null) {
            progress.watch(job);
        }
        scheduler.add(job);
        engine.dispatch();
        synchronized (this) {
            if (brokenReason != null) { // broke while we were submitting
                job.failAll(brokenFailure());
            }
        }
    }

    /** Guarded by this. */
    private ProcessPoolException brokenFailure() {
        return new ProcessPoolException("the pool is broken: " + brokenReason.getMessage(), brokenReason);
    }

    /** Reads every input before the call starts; an iterator that throws fails the call as imap's does. */
    private static Object[] toArray(Iterable<?> inputs) {
        try {
            if (inputs instanceof Collection<?> collection) {
                return collection.toArray();
            }
            List<Object> list = new ArrayList<>();
            for (Iterator<?> it = inputs.iterator(); it.hasNext(); ) {
                list.add(it.next());
            }
            return list.toArray();
        } catch (RuntimeException e) {
            throw new ProcessPoolException("the input iterator threw: " + e, e);
        }
    }

    private static <R> R await(CompletableFuture<R> future) {
        try {
            if (Thread.interrupted()) { // get() on a future already done would not look at the flag
                throw new InterruptedException();
            }
            spinBriefly(future);
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
        synchronized (this) {
            if (brokenReason != null) {
                return;
            }
            brokenReason = reason;
            if (state == State.OPEN) {
                state = State.BROKEN;
            }
        }
        ProcessPoolException failure = new ProcessPoolException("the pool is broken: " + reason.getMessage(), reason);
        for (Job job : active) {
            job.failAll(failure);
        }
    }

    // -------------------------------------------------------------------------------- lifecycle

    @Override
    public void close() {
        if (beginClose()) {
            finishClose();
        } else {
            try {
                ended.get();
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
        if (state != State.OPEN && state != State.BROKEN) {
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
                } catch (ExecutionException | CancellationException ignored) {
                    // the caller of that job sees its failure
                }
            }
            scheduler.close();
            engine.shutdown(System.nanoTime() + CLOSE_TIMEOUT.toNanos());
            stopProgress();
            synchronized (this) {
                if (state == State.CLOSING) {
                    state = State.CLOSED;
                }
            }
            endShared();
            ended.complete(null);
        } catch (InterruptedException e) {
            terminate();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized boolean isShutdown() {
        return state != State.OPEN && state != State.BROKEN;
    }

    /** True once the pool has ended and no task runs any more (a thread ignoring its interrupt holds it off). */
    @Override
    public boolean isTerminated() {
        return ended.isDone() && engine.stopped().isDone();
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            ended.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            engine.stopped().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

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
        scheduler.close();
        engine.terminate();
        endShared();
        stopProgress();
        ended.complete(null);
    }

    private void stopProgress() {
        if (progress != null) {
            progress.stop();
        }
    }
}
