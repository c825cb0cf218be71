package dev.procpool.internal.engine;

import dev.procpool.ProcessPoolException;
import dev.procpool.TaskTimeoutException;
import dev.procpool.internal.worker.ValueRuns;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bookkeeping of one call ({@code map}, {@code submit}, ...): where its chunks come from and where
 * its per-input outcomes go. Workers of either mode call {@link #succeeded} and {@link #failed} from
 * their own threads, in any order across chunks.
 */
public abstract class Job {
    private static final AtomicLong IDS = new AtomicLong();

    public final long id = IDS.incrementAndGet();
    public final Object function;
    /**
     * Results are rebuilt with the loader of the task's function, then the caller's context loader, not
     * the loader of a library thread; workers fetch what their class path lacks from it.
     */
    public final ClassLoader classLoader;
    public final PoolCounters counters;
    public final FunctionCache functions;
    public final long startNanos = System.nanoTime();
    /** Set once the final progress report is out; guarded by the reporter. */
    public boolean progressFinished;
    private final Map<Long, Integer> crashes = new HashMap<>();
    /** Some chunk of this job went to a worker; guarded by the scheduler's lock. */
    boolean handedOut;
    /** Taken back by {@link Scheduler#withdraw} before anything ran. */
    volatile boolean withdrawn;
    /** cancel(true): a task of this call that runs, now or once it starts, is stopped. */
    private volatile boolean interruptRequested;

    Job(Object function, PoolCounters counters, FunctionCache functions) {
        this.function = function;
        this.counters = counters;
        this.functions = functions;
        this.classLoader = CallLoaders.forCall(function.getClass().getClassLoader(),
                Thread.currentThread().getContextClassLoader());
    }

    /** The next chunk to run, or null when this job has none to give right now. Called under the scheduler lock. */
    public abstract Chunk nextChunk();

    /** True when {@link #nextChunk()} would give a chunk now. Called under the scheduler lock. */
    public abstract boolean hasChunk();

    /** True when the job has no more chunks to give, ever. Called under the scheduler lock. */
    public abstract boolean exhausted();

    public abstract void succeeded(long index, Object value);

    public abstract void failed(long index, ProcessPoolException failure);

    /**
     * The outcomes of {@code count} consecutive inputs of {@code chunk} from position {@code from}: a
     * value, or a failure where {@code failures[k]} is set.
     */
    public void answered(Chunk chunk, int from, Object[] values, ProcessPoolException[] failures, int count) {
        for (int k = 0; k < count; k++) {
            long index = chunk.indices()[from + k];
            if (failures[k] != null) {
                failed(index, failures[k]);
            } else {
                succeeded(index, values[k]);
            }
        }
    }

    /**
     * The values of {@code count} consecutive inputs of {@code chunk} from position {@code from}, all of one
     * packed kind ({@link ValueRuns}): {@code bits[k]} is the 64-bit form of the k-th. This default boxes
     * each; a job that can keep them unboxed overrides it.
     */
    public void answeredRun(Chunk chunk, int from, byte kind, long[] bits, int count) {
        for (int k = 0; k < count; k++) {
            succeeded(chunk.indices()[from + k], ValueRuns.box(kind, bits[k]));
        }
    }

    /** Completes when the call has its answer, normally or not. */
    public abstract CompletableFuture<?> completion();

    /** Called when the pool starts closing: a lazy call stops reading its input. */
    public void stopReading() {}

    /** Completes when the pool need not wait for this call any longer to close. */
    public CompletableFuture<?> drained() {
        return completion();
    }

    /** True once the caller has its answer (or gave up); outstanding tasks of a finished job are skipped. */
    public abstract boolean isFinished();

    /** Fails the whole call with one pool-level failure (pool broken or terminated, function not sendable). */
    public abstract void failAll(ProcessPoolException failure);

    public static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null ? e.getClass().getName() : message.lines().findFirst().orElse(message);
    }

    /** The call was cancelled with interrupt: its running tasks are to be stopped, also those that start later. */
    public void requestInterrupt() {
        interruptRequested = true;
    }

    public boolean isInterruptRequested() {
        return interruptRequested;
    }

    /** True when the call was taken back before any of it ran; its future's failure means only that. */
    public boolean isWithdrawn() {
        return withdrawn;
    }

    /** Inputs answered so far, failures included. */
    public abstract long doneInputs();

    /** Inputs that failed so far. */
    public abstract long failedInputs();

    /** Number of inputs, or -1 while unknown. */
    public abstract long totalInputs();

    public final void countSuccess() {
        counters.succeeded.incrementAndGet();
    }

    public final void countFailure(ProcessPoolException failure) {
        counters.failed.incrementAndGet();
        if (failure instanceof TaskTimeoutException) {
            counters.timeouts.incrementAndGet();
        }
    }

    /** How many crashes the task for this input has been blamed for so far. */
    public synchronized int crashes(long index) {
        return crashes.getOrDefault(index, 0);
    }

    /** Counts a crash of the task for this input and returns how many it has had. */
    public synchronized int recordCrash(long index) {
        return crashes.merge(index, 1, Integer::sum);
    }
}
