package dev.procpool;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A call whose inputs are all known: {@code map}, {@code starmap}, {@code apply}, {@code submit}.
 * It completes with the results in input order, or with the failure of the lowest failing index as
 * soon as every lower index is done, so the answer does not depend on timing.
 */
final class MapJob extends Job {
    final JobFuture<List<Object>> future = new JobFuture<>();
    private final Object[] inputs;
    private final int chunkSize;
    private final Object[] results;
    private final boolean[] done;
    private int nextToCut;
    private int donePrefix;
    private int remaining;
    private long failures;
    private long lowestFailure = Long.MAX_VALUE;
    private ProcessPoolException lowestFailureCause;

    MapJob(Object function, Object[] inputs, int chunkSize, PoolCounters counters, FunctionCache functions) {
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
    Chunk nextChunk() {
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
    synchronized long doneInputs() {
        return inputs.length - remaining;
    }

    @Override
    synchronized long failedInputs() {
        return failures;
    }

    @Override
    long totalInputs() {
        return inputs.length;
    }

    @Override
    boolean hasChunk() {
        return !exhausted();
    }

    @Override
    boolean exhausted() {
        return nextToCut >= inputs.length || future.isDone();
    }

    @Override
    synchronized void succeeded(long index, Object value) {
        int i = (int) index;
        if (done[i]) {
            return;
        }
        results[i] = value;
        countSuccess();
        markDone(i);
    }

    @Override
    synchronized void failed(long index, ProcessPoolException failure) {
        int i = (int) index;
        if (done[i]) {
            return;
        }
        countFailure(failure);
        failures++;
        if (index < lowestFailure) {
            lowestFailure = index;
            lowestFailureCause = failure;
        }
        markDone(i);
    }

    private void markDone(int i) {
        done[i] = true;
        remaining--;
        while (donePrefix < done.length && done[donePrefix]) {
            donePrefix++;
        }
        if (future.isDone()) {
            return;
        }
        if (donePrefix >= lowestFailure) {
            future.completeExceptionally(lowestFailureCause);
        } else if (remaining == 0) {
            List<Object> list = new ArrayList<>(results.length);
            Collections.addAll(list, results);
            future.complete(list);
        }
    }

    @Override
    CompletableFuture<?> completion() {
        return future;
    }

    @Override
    boolean isFinished() {
        return future.isDone();
    }

    @Override
    void failAll(ProcessPoolException failure) {
        future.completeExceptionally(failure);
    }
}
