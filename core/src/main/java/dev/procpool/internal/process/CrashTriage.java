package dev.procpool.internal.process;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides, when a worker has died, what becomes of each task it held without an answer. Pure: it
 * reads only what it is given, so every rule is tested without a JVM.
 *
 * <p>The rules, in the failure contract's words:
 * <ul>
 *   <li>Only the task running when the worker broke is blamed (the {@link dev.procpool.internal.worker.RunningTaskSlot}
 *       names it). The other unanswered tasks never started, or lost only their unsent results: they
 *       are re-queued untouched, to run on another worker.
 *   <li>The blamed task timed out if it is the one the timeout watch killed the worker for.
 *       Otherwise it crashed the worker: with retries left it runs again, else it fails.
 *   <li>A worker the pool killed for another reason (to cancel a call, or for a timeout whose task
 *       ended just before the kill) blames no task: all of them are re-queued.
 *   <li>A worker that died between tasks (reading an input that exhausts its memory, say) blames the
 *       next task: so a poison input cannot kill worker after worker forever.
 *   <li>A worker given up as unresponsive blames the task it was running, if any, as a crash; between
 *       tasks it blames none: frozen, it never started the ones queued on it.
 *   <li>Tasks of calls that are already over are dropped.
 * </ul>
 */
final class CrashTriage {
    enum Fate {
        /** Back to the scheduler, not counted as a crash of its own. */
        REQUEUE,
        /** It crashed the worker and may run again: back to the scheduler, the crash counted. */
        RETRY,
        /** It crashed the worker once more than it may: fails with {@code WorkerCrashedException}. */
        CRASHED,
        /** It ran past its time limit: fails with {@code TaskTimeoutException}. */
        TIMED_OUT
    }

    /**
     * A chunk the worker held: the worker's sequence number of its first task, its size, how many of its
     * tasks were answered (always the first ones), and whether its call is over.
     */
    record Held(long firstSequence, int size, int answered, boolean callFinished) {}

    /**
     * How the worker ended, as blame sees it: the task the slot says was running ({@code -1}: none
     * yet), the task the timeout watch killed it for ({@code -1}: none), and whether the pool killed
     * it to cancel a call.
     */
    record Death(long runningSequence, long timedOutSequence, boolean killedToCancel, boolean unresponsive) {
        Death(long runningSequence, long timedOutSequence, boolean killedToCancel) {
            this(runningSequence, timedOutSequence, killedToCancel, false);
        }
    }

    /** How many crashes a task has been blamed for before this one. */
    interface PriorCrashes {
        int of(int chunk, int position);
    }

    /** The fate of the task at {@code position} in held chunk number {@code chunk}. */
    record Verdict(int chunk, int position, Fate fate) {}

    private CrashTriage() {}

    /** A verdict for every unanswered task of a call not yet over, in the order the worker would have run them. */
    static List<Verdict> triage(List<Held> held, Death death, int retries, PriorCrashes crashes) {
        boolean killedByThePool = death.killedToCancel() || death.timedOutSequence() >= 0;
        // a frozen worker between tasks did not die of its next input: that input never reached a task
        boolean blameNext = !killedByThePool && !death.unresponsive() && !diedInATask(held, death.runningSequence());
        List<Verdict> verdicts = new ArrayList<>();
        for (int c = 0; c < held.size(); c++) {
            Held chunk = held.get(c);
            for (int position = chunk.answered(); position < chunk.size(); position++) {
                long sequence = chunk.firstSequence() + position;
                boolean culprit = sequence == death.runningSequence() || blameNext;
                blameNext = false;
                if (chunk.callFinished()) {
                    continue;
                }
                verdicts.add(new Verdict(c, position, fate(culprit, sequence, death, killedByThePool,
                        culprit ? crashes.of(c, position) : 0, retries)));
            }
        }
        return verdicts;
    }

    private static Fate fate(boolean culprit, long sequence, Death death, boolean killedByThePool, int priorCrashes,
            int retries) {
        if (culprit && sequence == death.timedOutSequence()) {
            return Fate.TIMED_OUT;
        }
        if (!culprit || killedByThePool) {
            return Fate.REQUEUE;
        }
        return priorCrashes + 1 <= retries ? Fate.RETRY : Fate.CRASHED;
    }

    private static boolean diedInATask(List<Held> held, long running) {
        for (Held chunk : held) {
            long position = running - chunk.firstSequence();
            if (position >= chunk.answered() && position < chunk.size()) {
                return true;
            }
        }
        return false;
    }
}
