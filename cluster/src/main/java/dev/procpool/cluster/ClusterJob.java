package dev.procpool.cluster;

import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * One call on a {@link ClusterPool}: its inputs cut into chunks, which chunks are done, and how the
 * results reach the caller (a future for map-like calls, an iterator for imap). All state is guarded
 * by the pool's lock, except the input iterator, which only the dispatcher thread reads.
 */
final class ClusterJob {
    /** A slice of consecutive inputs; kept serialized until its results are in, so it can run again elsewhere. */
    static final class Chunk {
        final ClusterJob job;
        final long seq;
        final long firstIndex;
        final int size;
        final byte[][] inputs;
        int attempts;
        Object currentAttempt;
        boolean done;

        Chunk(ClusterJob job, long seq, long firstIndex, int size, byte[][] inputs) {
            this.job = job;
            this.seq = seq;
            this.firstIndex = firstIndex;
            this.size = size;
            this.inputs = inputs;
        }
    }

    /** The results of one chunk: per element a value, or a failure when {@code failures[i] != null}. */
    record Outcome(long seq, Object[] values, ProcessPoolException[] failures) {}

    final long id;
    final byte kind;
    final byte[] function;
    final ClassLoader loader;
    final boolean streaming; // imap: bounded read-ahead, results through an iterator
    final boolean ordered;
    private final Object lock;
    private final Runnable wakeDispatcher;

    // input (dispatcher thread only, except sourceDone/nextSeq which are read under the lock)
    private final Iterator<?> source;
    private final boolean adaptive;
    private volatile int chunkSize;
    long nextIndex;
    long nextSeq;
    boolean sourceDone;
    private RuntimeException sourceFailure;

    final PriorityQueue<Chunk> retry = new PriorityQueue<>((a, b) -> Long.compare(a.seq, b.seq));
    private final TreeMap<Long, Outcome> doneInOrder = new TreeMap<>();
    private final ArrayDeque<Outcome> doneInCompletionOrder = new ArrayDeque<>();
    long consumedChunks; // chunks handed to the consumer (or collected for the future)
    private long nextToCollect;
    private ProcessPoolException fatal;
    boolean finished;

    // map-like calls
    final CompletableFuture<List<Object>> future = new CompletableFuture<>();
    private final List<Object> collected = new ArrayList<>();

    ClusterJob(long id, Object lock, Runnable wakeDispatcher, byte kind, byte[] function, ClassLoader loader,
            Iterator<?> source, int chunkSize, boolean streaming, boolean ordered) {
        this.id = id;
        this.lock = lock;
        this.wakeDispatcher = wakeDispatcher;
        this.kind = kind;
        this.function = function;
        this.loader = loader;
        this.source = source;
        this.adaptive = chunkSize == 0;
        this.chunkSize = chunkSize == 0 ? 1 : chunkSize;
        this.streaming = streaming;
        this.ordered = ordered;
    }

    /** Chunks not yet consumed that may exist at once (imap); unbounded for map-like calls. */
    boolean mayCreateChunk(int window) {
        return !finished && !sourceDone && (!streaming || nextSeq - consumedChunks < window);
    }

    /**
     * Reads the next chunk's inputs (dispatcher thread, outside the lock) and serializes them. An
     * input that cannot be serialized becomes a chunk of its own that fails at once. Returns null when
     * the input is exhausted.
     */
    List<Object> readInputs() {
        List<Object> inputs = new ArrayList<>();
        int size = chunkSize;
        try {
            while (inputs.size() < size && source.hasNext()) {
                inputs.add(source.next());
            }
            if (inputs.size() < size || !streaming && !source.hasNext()) {
                exhausted = true; // an array's iterator answers at once; a lazy one is not asked ahead
            }
        } catch (RuntimeException e) {
            synchronized (lock) {
                sourceFailure = e;
            }
        }
        return inputs;
    }

    private volatile boolean exhausted;

    /** Under the lock: the inputs just read become chunks; notes when the input has ended. */
    List<Chunk> addChunks(List<Object> inputs, List<byte[][]> serialized, List<ProcessPoolException> unsendable) {
        List<Chunk> made = new ArrayList<>();
        if (!inputs.isEmpty() && !finished) {
            if (serialized.size() == 1) {
                made.add(new Chunk(this, nextSeq++, nextIndex, inputs.size(), serialized.get(0)));
                notDone++;
            } else { // one chunk per input: some of them cannot be sent
                for (int i = 0; i < inputs.size(); i++) {
                    Chunk chunk = new Chunk(this, nextSeq++, nextIndex + i, 1, serialized.get(i));
                    notDone++;
                    if (unsendable.get(i) != null) {
                        markDone(chunk);
                        deliver(new Outcome(chunk.seq, new Object[1], new ProcessPoolException[] {unsendable.get(i)}));
                    } else {
                        made.add(chunk);
                    }
                }
            }
            nextIndex += inputs.size();
        }
        if (exhausted || sourceFailure != null || inputs.isEmpty()) {
            sourceDone = true;
            checkFinished();
        }
        return made;
    }

    /** Chunks made and not yet done. */
    private long notDone;

    void markDone(Chunk chunk) {
        if (!chunk.done) {
            chunk.done = true;
            notDone--;
        }
    }

    boolean hasSourceFailure() {
        return sourceFailure != null;
    }

    /** A member reported how long a chunk took: unknown-size imap grows its chunks while they are short. */
    void observed(int size, long elapsedNanos) {
        if (adaptive && size == chunkSize && elapsedNanos < 50_000_000L && chunkSize < 1024) {
            chunkSize = chunkSize * 2;
        }
    }

    /** Under the lock: a chunk's results are in. */
    void deliver(Outcome outcome) {
        if (finished) {
            return;
        }
        if (ordered || !streaming) {
            doneInOrder.put(outcome.seq(), outcome);
        } else {
            doneInCompletionOrder.add(outcome);
        }
        if (!streaming) {
            collect();
        }
        lock.notifyAll();
    }

    /** Map-like calls: take results in input order; the first failure met is the lowest failing index. */
    private void collect() {
        Outcome next;
        while ((next = doneInOrder.remove(nextToCollect)) != null) {
            nextToCollect++;
            consumedChunks++;
            for (int i = 0; i < next.values().length; i++) {
                if (next.failures()[i] != null) {
                    fail(next.failures()[i]);
                    return;
                }
                collected.add(next.values()[i]);
            }
        }
        checkFinished();
    }

    private void checkFinished() {
        if (!streaming && !finished && sourceDone && nextToCollect == nextSeq) {
            finished = true;
            future.complete(collected);
        }
        lock.notifyAll();
    }

    /** Under the lock: the whole call fails (map-like: the future; imap: the iterator's next call). */
    void fail(ProcessPoolException failure) {
        if (finished) {
            return;
        }
        finished = true;
        fatal = failure;
        future.completeExceptionally(failure);
        lock.notifyAll();
    }

    /** Under the lock: the caller gave up on the call. */
    void cancel() {
        if (!finished) {
            finished = true;
            future.cancel(false);
        }
        lock.notifyAll();
    }

    /** Under the lock: this job still needs a member to run something. */
    boolean hasPendingWork() {
        return !finished && (!sourceDone || notDone > 0);
    }

    // ------------------------------------------------------------------------------ iterator

    ResultIterator<Object> iterator() {
        return new ResultIterator<>() {
            private Outcome current;
            private int position;
            private boolean ended;

            @Override
            public boolean hasNext() {
                return fill();
            }

            @Override
            public Object next() {
                if (!fill()) {
                    throw new NoSuchElementException();
                }
                int i = position++;
                if (current.failures()[i] != null) {
                    ProcessPoolException failure = current.failures()[i];
                    failure.setStackTrace(new Throwable().getStackTrace());
                    throw failure;
                }
                return current.values()[i];
            }

            private boolean fill() {
                synchronized (lock) {
                    while (true) {
                        if (current != null && position < current.values().length) {
                            return true;
                        }
                        if (ended) {
                            return false;
                        }
                        Outcome next = ordered ? doneInOrder.remove(consumedChunks) : doneInCompletionOrder.poll();
                        if (next != null) {
                            current = next;
                            position = 0;
                            consumedChunks++;
                            wakeDispatcher.run();
                            continue;
                        }
                        if (fatal != null) {
                            ended = true;
                            ProcessPoolException failure = fatal;
                            throw failure;
                        }
                        if (finished) {
                            ended = true;
                            return false;
                        }
                        if (sourceDone && consumedChunks == nextSeq) {
                            ended = true;
                            if (sourceFailure != null) {
                                finished = true;
                                throw new ProcessPoolException("the input iterator threw: " + sourceFailure, sourceFailure);
                            }
                            finished = true;
                            return false;
                        }
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            ended = true;
                            cancel();
                            Thread.currentThread().interrupt();
                            throw new ProcessPoolException("interrupted while waiting for results; the call was cancelled", e);
                        }
                    }
                }
            }

            @Override
            public void close() {
                synchronized (lock) {
                    ended = true;
                    cancel();
                }
                wakeDispatcher.run();
            }
        };
    }
}
