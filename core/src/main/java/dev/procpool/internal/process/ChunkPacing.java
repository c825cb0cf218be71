package dev.procpool.internal.process;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * How much work one worker may hold, learned from how fast it answers. Not thread-safe: the worker
 * guards it with its own lock.
 *
 * <p>Two chunks in flight keep the pipe busy while the worker computes. When tasks are fast (under
 * {@link #FAST_TASK_NANOS} each) a pipe round trip costs more than a chunk of them, so the worker may
 * hold more small chunks and never waits for the parent between them. But a worker holds a second
 * chunk only while no other worker is idle or starting: work held by one worker is work another
 * cannot start on (tasks that wait for each other included).
 */
final class ChunkPacing {
    /** Chunks in flight when tasks are slow, or their pace is not known yet. */
    static final int MAX_CHUNKS_IN_FLIGHT = 2;
    static final long FAST_TASK_NANOS = 50_000;
    static final int FAST_MAX_CHUNKS = 32;
    static final int FAST_MAX_TASKS = 64;

    private final LongSupplier nanoTime;
    /** Time per task while busy, smoothed; starts slow so that nothing piles up before it is known. */
    private double nanosPerTask = Double.MAX_VALUE;
    private long lastCompletionNanos;
    private boolean busyAtLastCompletion;

    ChunkPacing(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /**
     * A chunk of {@code tasks} was answered in full. The time since the previous completion is the
     * worker's pace only if it had work all along: an idle gap says nothing about its tasks.
     *
     * @param stillBusy whether the worker holds more chunks after this one
     */
    void chunkAnswered(int tasks, boolean stillBusy) {
        long now = nanoTime.getAsLong();
        if (busyAtLastCompletion) {
            double sample = (double) (now - lastCompletionNanos) / tasks;
            nanosPerTask = nanosPerTask == Double.MAX_VALUE ? sample : 0.7 * nanosPerTask + 0.3 * sample;
        }
        lastCompletionNanos = now;
        busyAtLastCompletion = stillBusy;
    }

    /** The smoothed time per task, or {@link Double#MAX_VALUE} while unknown. */
    double nanosPerTask() {
        return nanosPerTask;
    }

    /**
     * Whether the worker may take one more chunk. The first always fits; more, up to {@code upTo}
     * (or, for fast tasks at the default limit, up to the fast limits), only while no other worker
     * needs work. {@code anotherWorkerNeedsWork} is asked only when it matters: it walks the pool.
     */
    boolean hasRoom(int chunksInFlight, int tasksInFlight, int upTo, BooleanSupplier anotherWorkerNeedsWork) {
        if (chunksInFlight == 0) {
            return true;
        }
        if (anotherWorkerNeedsWork.getAsBoolean()) {
            return false;
        }
        if (chunksInFlight < upTo) {
            return true;
        }
        return upTo == MAX_CHUNKS_IN_FLIGHT && nanosPerTask < FAST_TASK_NANOS && chunksInFlight < FAST_MAX_CHUNKS
                && tasksInFlight < FAST_MAX_TASKS;
    }
}
