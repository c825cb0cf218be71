package dev.procpool.internal.engine;

import dev.procpool.ProcessPoolException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A call whose inputs are all known: {@code map}, {@code starmap}, {@code apply}, {@code submit}.
 * It completes with the results in input order, or with the failure of the lowest failing index as
 * soon as every lower index is done, so the answer does not depend on timing.
 *
 * <p>Results that arrive packed ({@link #answeredRun}: runs of longs, ints or doubles from worker JVMs)
 * are kept unboxed, copied in bulk into {@link #bits}; the list the call returns ({@link ResultList})
 * boxes them when read. A run of a contiguous chunk is stored with a few bulk copies, no work per value,
 * which is what keeps a cold JVM (interpreted code) fast on a map of a million small values.
 */
public final class MapJob extends Job {
    public final JobFuture<List<Object>> future = new JobFuture<>();
    private final Object[] inputs;
    private final int chunkSize;
    // Guarded by this.
    private final Object[] results;
    /** Packed results, made on the first run: the value's bits where {@link #kinds} is not 0. */
    private long[] bits;
    private byte[] kinds;
    private final boolean[] done;
    private int nextToCut;
    private int donePrefix;
    private int remaining;
    private long failures;
    private long lowestFailure = Long.MAX_VALUE;
    private ProcessPoolException lowestFailureCause;

    public MapJob(Object function, Object[] inputs, int chunkSize, PoolCounters counters, FunctionCache functions) {
        super(function, counters, functions);
        this.inputs = inputs;
        this.chunkSize = chunkSize;
        this.results = new Object[inputs.length];
        this.done = new boolean[inputs.length];
        this.remaining = inputs.length;
        if (inputs.length == 0) {
            future.complete(Collections.emptyList());
        }
    }

    @Override
    public Chunk nextChunk() {
        if (exhausted()) {
            return null;
        }
        int n = Math.min(chunkSize, inputs.length - nextToCut);
        long[] indices = new long[n];
        for (int i = 0; i < n; i++) {
            indices[i] = nextToCut + i;
        }
        Chunk chunk = new Chunk(this, indices, Arrays.copyOfRange(inputs, nextToCut, nextToCut + n));
        nextToCut += n;
        return chunk;
    }

    @Override
    public synchronized long doneInputs() {
        return inputs.length - remaining;
    }

    @Override
    public synchronized long failedInputs() {
        return failures;
    }

    @Override
    public long totalInputs() {
        return inputs.length;
    }

    @Override
    public boolean hasChunk() {
        return !exhausted();
    }

    @Override
    public boolean exhausted() {
        return nextToCut >= inputs.length || future.isDone();
    }

    @Override
    public synchronized void succeeded(long index, Object value) {
        if (recordSuccess((int) index, value)) {
            countSuccess();
        }
        settle();
    }

    @Override
    public synchronized void failed(long index, ProcessPoolException failure) {
        recordFailure((int) index, failure);
        settle();
    }

    /** One lock and one completion check for a run of outcomes: a reader delivers a frame's worth at once. */
    @Override
    public synchronized void answered(Chunk chunk, int from, Object[] values, ProcessPoolException[] failures, int count) {
        long successes = 0;
        for (int k = 0; k < count; k++) {
            int i = (int) chunk.indices()[from + k];
            if (failures[k] != null) {
                recordFailure(i, failures[k]);
            } else if (recordSuccess(i, values[k])) {
                successes++;
            }
        }
        counters.succeeded.addAndGet(successes);
        settle();
    }

    @Override
    public synchronized void answeredRun(Chunk chunk, int from, byte kind, long[] values, int count) {
        if (bits == null) {
            bits = new long[results.length];
            kinds = new byte[results.length];
        }
        long[] indices = chunk.indices();
        int first = (int) indices[from];
        int k = 0;
        while (k < count && indices[from + k] == first + k && !done[first + k]) {
            k++;
        }
        long successes;
        if (k == count) { // the usual case: fresh, contiguous inputs
            System.arraycopy(values, 0, bits, first, count);
            Arrays.fill(kinds, first, first + count, kind);
            Arrays.fill(done, first, first + count, true);
            remaining -= count;
            successes = count;
        } else {
            successes = 0;
            for (k = 0; k < count; k++) {
                int i = (int) indices[from + k];
                if (!done[i]) {
                    bits[i] = values[k];
                    kinds[i] = kind;
                    done[i] = true;
                    remaining--;
                    successes++;
                }
            }
        }
        counters.succeeded.addAndGet(successes);
        settle();
    }

    private boolean recordSuccess(int i, Object value) {
        if (done[i]) {
            return false;
        }
        results[i] = value;
        done[i] = true;
        remaining--;
        return true;
    }

    private void recordFailure(int i, ProcessPoolException failure) {
        if (done[i]) {
            return;
        }
        countFailure(failure);
        failures++;
        if (i < lowestFailure) {
            lowestFailure = i;
            lowestFailureCause = failure;
        }
        done[i] = true;
        remaining--;
    }

    /** Completes the call once its answer is known: all done, or the lowest failure with all before it done. */
    private void settle() {
        if (future.isDone()) {
            return;
        }
        if (lowestFailure != Long.MAX_VALUE) { // only a failure needs to know how far all is done
            while (donePrefix < done.length && done[donePrefix]) {
                donePrefix++;
            }
            if (donePrefix >= lowestFailure) {
                future.completeExceptionally(lowestFailureCause);
                return;
            }
        }
        if (remaining == 0) {
            future.complete(bits == null ? new ArrayList<>(Arrays.asList(results)) : new ResultList(results, bits, kinds));
        }
    }

    @Override
    public CompletableFuture<?> completion() {
        return future;
    }

    @Override
    public boolean isFinished() {
        return future.isDone();
    }

    @Override
    public void failAll(ProcessPoolException failure) {
        future.completeExceptionally(failure);
    }
}
