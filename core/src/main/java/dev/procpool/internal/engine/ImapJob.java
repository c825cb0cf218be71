package dev.procpool.internal.engine;

import dev.procpool.Pool;
import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;

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
    /** Who waits on this monitor: wake-ups are sent only to a thread that waits, not per answer. */
    private boolean feederWaits;
    private boolean consumerWaits;
    private long fetched;
    private long answered;
    private long failures;
    private long consumed;
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
                    while (!cancelled && fetched - consumed + size > window) {
                        feederWaits = true;
                        wait();
                    }
                    feederWaits = false;
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

    /** Blocks until the next outcome is in; null when there is none left. */
    private synchronized ImapOutcomes.Outcome take() throws InterruptedException {
        while (true) {
            ImapOutcomes.Outcome next = outcomes.poll(consumed);
            if (next != null) {
                consumed++;
                if (feederWaits) {
                    notifyAll(); // the feeder may have room now
                }
                maybeComplete();
                return next;
            }
            boolean allAnswered = sourceDone && consumed == fetched;
            if (cancelled || allAnswered) {
                if (sourceFailure != null && !sourceFailureReported) {
                    sourceFailureReported = true;
                    maybeComplete();
                    Throwable failure = sourceFailure;
                    return new ImapOutcomes.Outcome(consumed, null, failure instanceof ProcessPoolException p ? p
                            : new ProcessPoolException("the input iterator threw: " + failure, failure));
                }
                return null;
            }
            consumerWaits = true;
            try {
                wait();
            } finally {
                consumerWaits = false;
            }
        }
    }

    /** The consumer's side. Holds the job; the job never refers back, so dropping this cancels the job. */
    private static final class Results implements ResultIterator<Object> {
        private final ImapJob job;
        private ImapOutcomes.Outcome next;
        private boolean finished;

        Results(ImapJob job) {
            this.job = job;
        }

        @Override
        public boolean hasNext() {
            if (next != null) {
                return true;
            }
            if (finished) {
                return false;
            }
            try {
                next = job.take();
            } catch (InterruptedException e) {
                job.cancel();
                finished = true;
                Thread.currentThread().interrupt();
                throw new ProcessPoolException("interrupted while waiting for results; the call was cancelled", e);
            }
            if (next == null) {
                finished = true;
            }
            return next != null;
        }

        @Override
        public Object next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            ImapOutcomes.Outcome outcome = next;
            next = null;
            if (outcome.failure() != null) {
                throw EnginePool.rethrowHere(outcome.failure());
            }
            return outcome.value();
        }

        @Override
        public void close() {
            finished = true;
            next = null;
            job.cancel();
        }
    }
}
