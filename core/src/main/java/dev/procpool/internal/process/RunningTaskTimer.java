package dev.procpool.internal.process;

import dev.procpool.internal.worker.RunningTaskSlot;

/**
 * The task time limit for one worker, as the timeout watch sees it on each pass. The worker does not
 * report when a task starts (that would cost a pipe flush per task); the watch reads the running
 * task's number from the shared slot instead, and starts the clock when it first sees a number. So a
 * task always gets at least its full time, and at most one watch interval more.
 *
 * <p>Not thread-safe: one watch thread, under the worker's lock.
 */
final class RunningTaskTimer {
    private final long limitNanos;
    private long watched = RunningTaskSlot.NONE;
    private long sinceNanos;
    private long expired = RunningTaskSlot.NONE;

    RunningTaskTimer(long limitNanos) {
        this.limitNanos = limitNanos;
    }

    /**
     * One pass of the watch: true, once per task, when {@code running} has been seen running for the
     * whole limit. {@code unanswered} false (the slot still names a task already answered, or the
     * worker is not serving) stops the clock.
     */
    boolean expired(long running, boolean unanswered, long nowNanos) {
        if (!unanswered) {
            watched = RunningTaskSlot.NONE;
            return false;
        }
        if (running != watched) {
            watched = running;
            sinceNanos = nowNanos;
            return false;
        }
        if (nowNanos - sinceNanos < limitNanos || expired == running) {
            return false;
        }
        expired = running;
        return true;
    }

    /** The task that ran past the limit, or {@link RunningTaskSlot#NONE}. */
    long expiredSequence() {
        return expired;
    }
}
