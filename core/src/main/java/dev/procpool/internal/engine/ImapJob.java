package dev.procpool.internal.engine;

import dev.procpool.Pool;
import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;

/**
 * A lazy call ({@code imap}, {@code imapUnordered}): a feeder thread reads the input iterator into
 * chunks, never more than a window of inputs ahead of what the consumer has taken, so neither the
 * inputs nor the results pile up, whatever the consumer's pace.
 */
public final class ImapJob extends Job {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final VarHandle HANDED_OVER;

    static {
        try {
            HANDED_OVER = MethodHandles.lookup().findVarHandle(ImapJob.class, "handedOver", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** With no chunk size given and no size known, chunks aim at about this much work each. */
    private static final long TARGET_CHUNK_NANOS = 20_000_000;
    private static final int MAX_ADAPTIVE_CHUNK = 4096;
    /** Inputs in the pipeline per worker, in chunks: two in flight, one ready, one answered. */
    private static final int CHUNKS_PER_WORKER = 4;

    private final Iterator<?> source;
    private final boolean ordered;
    private final int fixedChunkSize;
    private final int workers;
    private final Runnable dispatch;
    private final CompletableFuture<Void> completion = new CompletableFuture<>();
    private final long startNanos = System.nanoTime();

    // Guarded by this.
    private final ArrayDeque<Chunk> ready = new ArrayDeque<>();
    /** The outcomes not taken yet, and which inputs read still await their answer. */
    private final ImapOutcomes outcomes;
    /** The consumer waits on this monitor: answers wake it only then, not each one. */
    private boolean consumerWaits;
    private long fetched;
    private long answered;
    private long failures;
    /** Outcomes moved to the consumer's side (which takes a few at a time). */
    private long consumed;
    // The read-ahead window follows what the caller has taken, counted without the lock: the feeder writes
    // resumeAt then reads handedOver (both volatile); the consumer writes handedOver with a release store
    // (no fence per element) then reads resumeAt. Should the feeder miss a count and wait, the consumer
    // wakes it at its next count, or at the latest in take(), under the lock, before it could wait itself.
    /** Outcomes the caller has taken ({@code next()}); written by the consumer only. */
    private volatile long handedOver;
    /** While the feeder waits for room: the {@link #handedOver} count that makes room; else Long.MAX_VALUE. */
    private volatile long resumeAt = Long.MAX_VALUE;
    private boolean sourceDone;
    private Throwable sourceFailure;
    private boolean sourceFailureReported;
    private boolean cancelled;
    /** The pool is closing: no more input is read; what was read still runs. */
    private boolean stoppedReading;
    private Thread feeder;
    /** Completes once every input read so far has its answer (not necessarily consumed). */
    private final CompletableFuture<Void> allAnswered = new CompletableFuture<>();

    public ImapJob(Object function, Iterator<?> source, boolean ordered, int chunkSize, int workers, Runnable dispatch,
            PoolCounters counters, FunctionCache functions) {
        super(function, counters, functions);
        this.source = source;
        this.ordered = ordered;
        this.outcomes = ImapOutcomes.of(ordered);
        this.fixedChunkSize = chunkSize;
        this.workers = workers;
        this.dispatch = dispatch;
    }

    /** Starts the feeder and returns the consumer's view; the view's disposal cancels the job. */
    public ResultIterator<Object> start() {
        Thread thread = new Thread(this::feed, "procpool-imap-feeder-" + id);
        thread.setDaemon(true);
        synchronized (this) {
            feeder = thread;
        }
        thread.start();
        Results results = new Results(this);
        CLEANER.register(results, this::cancel);
        return results;
    }

    private int chunkSize() {
        if (fixedChunkSize > 0) {
            return fixedChunkSize;
        }
        synchronized (this) {
            if (answered == 0) {
                return 1;
            }
            long perInputNanos = Math.max(1, (System.nanoTime() - startNanos) * workers / answered);
            return (int) Math.max(1, Math.min(MAX_ADAPTIVE_CHUNK, TARGET_CHUNK_NANOS / perInputNanos));
        }
    }

    private void feed() {
        try {
            while (true) {
                int size = chunkSize();
                long window = (long) size * workers * CHUNKS_PER_WORKER;
                synchronized (this) {
                    while (!cancelled) {
                        resumeAt = fetched + size - window;
                        if (fetched - handedOver + size <= window) {
                            break;
                        }
                        wait();
                    }
                    resumeAt = Long.MAX_VALUE;
                    if (cancelled) {
                        return;
                    }
                }
                long first;
                synchronized (this) {
                    first = fetched;
                }
                long[] indices = new long[size];
                Object[] inputs = new Object[size];
                int n = 0;
                while (n < size && source.hasNext()) {
                    indices[n] = first + n;
                    inputs[n++] = source.next();
                }
                if (n > 0) {
                    Chunk chunk = n == size ? new Chunk(this, indices, inputs) : new Chunk(this, indices, inputs).head(n);
                    synchronized (this) {
                        if (stoppedReading) {
                            return; // the pool closed meanwhile: these inputs are not run
                        }
                        ready.addLast(chunk);
                        outcomes.expect(first, n);
                        fetched += n;
                    }
                    dispatch.run();
                }
                if (n < size) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            return; // cancelled
        } catch (Throwable failure) {
            synchronized (this) {
                if (stoppedReading) {
                    return; // interrupted by the close, not a failure of the input
                }
                sourceFailure = failure;
            }
        }
        synchronized (this) {
            sourceDone = true;
            notifyAll();
            maybeComplete();
            checkAllAnswered();
        }
        dispatch.run();
    }

    @Override
    public synchronized Chunk nextChunk() {
        return cancelled ? null : ready.pollFirst();
    }

    @Override
    public synchronized long doneInputs() {
        return answered;
    }

    @Override
    public synchronized long failedInputs() {
        return failures;
    }

    @Override
    public synchronized long totalInputs() {
        return sourceDone ? fetched : -1;
    }

    @Override
    public synchronized boolean hasChunk() {
        return !cancelled && !ready.isEmpty();
    }

    @Override
    public synchronized boolean exhausted() {
        return cancelled || sourceDone && ready.isEmpty();
    }

    @Override
    public synchronized void succeeded(long index, Object value) {
        if (!cancelled && outcomes.arrive(index, value, null)) {
            countSuccess();
            arrived(1);
        }
    }

    @Override
    public synchronized void failed(long index, ProcessPoolException failure) {
        if (!cancelled && outcomes.arrive(index, null, failure)) {
            countFailure(failure);
            failures++;
            arrived(1);
        }
    }

    /** One lock and at most one wake-up for a run of outcomes. */
    @Override
    public synchronized void answered(Chunk chunk, int from, Object[] values, ProcessPoolException[] failures, int count) {
        if (cancelled) {
            return;
        }
        int accepted = 0;
        for (int k = 0; k < count; k++) {
            long index = chunk.indices()[from + k];
            ProcessPoolException failure = failures[k];
            if (outcomes.arrive(index, failure == null ? values[k] : null, failure)) {
                accepted++;
                if (failure != null) {
                    countFailure(failure);
                    this.failures++;
                } else {
                    countSuccess();
                }
            }
        }
        arrived(accepted);
    }

    /** Packed values stay unboxed until the consumer takes them (ordered calls). */
    @Override
    public synchronized void answeredRun(Chunk chunk, int from, byte kind, long[] bits, int count) {
        if (cancelled) {
            return;
        }
        int accepted = outcomes.arriveRun(chunk.indices(), from, kind, bits, count);
        counters.succeeded.addAndGet(accepted);
        arrived(accepted);
    }

    /** Guarded by this. */
    private void arrived(int count) {
        if (count == 0) {
            return;
        }
        answered += count;
        checkAllAnswered();
        if (consumerWaits) {
            notifyAll();
        }
    }

    @Override
    public void failAll(ProcessPoolException failure) {
        synchronized (this) {
            if (cancelled || completion.isDone()) {
                return;
            }
            sourceFailure = failure;
            sourceDone = true;
            cancelled = true; // nothing more runs; the consumer sees what arrived, then the failure
            ready.clear();
            outcomes.forgetAwaited();
            if (feeder != null) {
                feeder.interrupt();
            }
            notifyAll();
        }
        allAnswered.complete(null);
        completion.complete(null);
    }

    public void cancel() {
        synchronized (this) {
            if (cancelled) {
                return;
            }
            cancelled = true;
            ready.clear();
            outcomes.clear();
            if (feeder != null) {
                feeder.interrupt();
            }
            notifyAll();
        }
        allAnswered.complete(null);
        completion.complete(null);
    }

    /**
     * Cancels the lazy call behind {@code results} and stops its running tasks, as {@code cancel(true)}
     * does for a future: in process mode their worker JVMs are killed. {@link ResultIterator#close()}
     * lets running tasks finish; a cluster member that is told to cancel a call needs them stopped.
     *
     * @param pool    the pool that started the call
     * @param results the call's iterator
     */
    public static void cancelRunning(Pool pool, ResultIterator<?> results) {
        if (results instanceof Results view) {
            view.job.cancel();
            if (pool instanceof EnginePool enginePool) {
                enginePool.engine().interruptRunning(view.job);
            }
        } else {
            results.close();
        }
    }

    /** Guarded by this. */
    private void checkAllAnswered() {
        if (sourceDone && answered >= fetched) {
            allAnswered.complete(null);
        }
    }

    /**
     * The pool is closing: read no more input, so that close() waits only for the inputs already read
     * (an endless or abandoned iteration must not hold it forever). Their results stay available; after
     * them, {@code next()} throws a {@link ProcessPoolException} saying the input was cut short.
     */
    @Override
    public void stopReading() {
        synchronized (this) {
            if (sourceDone || cancelled) {
                checkAllAnswered();
                return;
            }
            stoppedReading = true;
            sourceDone = true;
            sourceFailure = new ProcessPoolException("the pool was closed before the input was read to its end: "
                    + "inputs from index " + fetched + " on were not run");
            if (feeder != null) {
                feeder.interrupt();
            }
            checkAllAnswered();
            notifyAll();
        }
        dispatch.run();
    }

    @Override
    public CompletableFuture<?> drained() {
        return allAnswered;
    }

    private void maybeComplete() {
        if (sourceDone && consumed == fetched && (sourceFailure == null || sourceFailureReported)) {
            completion.complete(null);
        }
    }

    @Override
    public CompletableFuture<?> completion() {
        return completion;
    }

    @Override
    public boolean isFinished() {
        return completion.isDone();
    }

    /**
     * Blocks until the next outcome is in, then moves it and those right behind it that are in too (up to
     * {@code into.length}) into {@code into}: one lock for a batch, not per outcome. Returns how many; 0
     * when there is none left.
     */
    private synchronized int take(ImapOutcomes.Outcome[] into) throws InterruptedException {
        if (handedOver >= resumeAt) {
            notifyAll(); // a count the feeder missed
        }
        while (true) {
            int n = 0;
            ImapOutcomes.Outcome next;
            while (n < into.length && (next = outcomes.poll(consumed)) != null) {
                into[n++] = next;
                consumed++;
            }
            if (n > 0) {
                maybeComplete();
                return n;
            }
            boolean allAnswered = sourceDone && consumed == fetched;
            if (cancelled || allAnswered) {
                if (sourceFailure != null && !sourceFailureReported) {
                    sourceFailureReported = true;
                    maybeComplete();
                    Throwable failure = sourceFailure;
                    into[0] = new ImapOutcomes.Outcome(consumed, null, failure instanceof ProcessPoolException p ? p
                            : new ProcessPoolException("the input iterator threw: " + failure, failure));
                    return 1;
                }
                return 0;
            }
            consumerWaits = true;
            try {
                wait();
            } finally {
                consumerWaits = false;
            }
        }
    }

    /** The caller has taken {@code total} outcomes: wakes the feeder if that made the room it waits for. */
    private void handedOver(long total) {
        HANDED_OVER.setRelease(this, total);
        if (total >= resumeAt) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /**
     * The consumer's side. Holds the job; the job never refers back, so dropping this cancels the job. Takes
     * outcomes from the job a few at a time ({@link #BATCH}); the read-ahead window follows what
     * {@link #next()} has handed to the caller.
     */
    private static final class Results implements ResultIterator<Object> {
        private static final int BATCH = 64;
        private final ImapJob job;
        private final ImapOutcomes.Outcome[] taken = new ImapOutcomes.Outcome[BATCH];
        private int position;
        private int count;
        private long handedOver;
        private boolean finished;

        Results(ImapJob job) {
            this.job = job;
        }

        @Override
        public boolean hasNext() {
            if (position < count) {
                return true;
            }
            if (finished) {
                return false;
            }
            try {
                position = 0;
                count = job.take(taken);
            } catch (InterruptedException e) {
                count = 0;
                job.cancel();
                finished = true;
                Thread.currentThread().interrupt();
                throw new ProcessPoolException("interrupted while waiting for results; the call was cancelled", e);
            }
            if (count == 0) {
                finished = true;
            }
            return count > 0;
        }

        @Override
        public Object next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            ImapOutcomes.Outcome outcome = taken[position];
            taken[position++] = null;
            job.handedOver(++handedOver);
            if (outcome.failure() != null) {
                throw EnginePool.rethrowHere(outcome.failure());
            }
            return outcome.value();
        }

        @Override
        public void close() {
            finished = true;
            java.util.Arrays.fill(taken, null);
            position = 0;
            count = 0;
            job.cancel();
        }
    }
}
