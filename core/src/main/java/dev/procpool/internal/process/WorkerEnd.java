package dev.procpool.internal.process;

/**
 * Why a worker's process ended, as the pool counts and logs it. What happens to the tasks it held
 * is {@link CrashTriage}'s business; this is about the worker.
 */
enum WorkerEnd {
    /** The pool asked it to stop: {@code close()}, {@code terminate()}, a pool that gave up. */
    STOPPED,
    /** It ran its {@code maxTasksPerWorker} tasks, answered them all and exited when told: a fresh one replaces it. */
    RECYCLED,
    /** The pool killed it to stop the running task of a cancelled call. */
    CANCELLED,
    /** The timeout watch killed it: a task ran past the time limit. */
    TIMED_OUT,
    /** The liveness watch killed it: it sent no frame and answered no heartbeat for the liveness timeout. */
    UNRESPONSIVE,
    /** Anything else: it exited, halted, was killed by someone else, ran out of memory, corrupted its channel, or never launched. */
    CRASHED;

    /** Counted in {@code PoolStats.workerCrashes} and logged as a warning: the pool did not want this end. */
    boolean unexpected() {
        return this == TIMED_OUT || this == UNRESPONSIVE || this == CRASHED;
    }

    /**
     * @param stopRequested  the pool asked the worker to stop (or killed it while terminating)
     * @param drained        the worker was told to exit after its last task and held no task when it ended
     * @param channelBroken  the channel failed or carried bytes that are not frames
     */
    static WorkerEnd classify(boolean stopRequested, boolean drained, boolean channelBroken, boolean killedToCancel,
            boolean timedOut) {
        if (stopRequested) {
            return STOPPED;
        }
        if (drained && !channelBroken) {
            return RECYCLED;
        }
        if (killedToCancel) {
            return CANCELLED;
        }
        return timedOut ? TIMED_OUT : CRASHED;
    }
}
