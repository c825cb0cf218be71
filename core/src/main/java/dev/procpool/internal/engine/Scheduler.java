package dev.procpool.internal.engine;

import dev.procpool.ProcessPoolException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queue workers pull from. Chunks given back by a dead or recycled worker come first, then new
 * chunks from the jobs in the order they were submitted. Workers pull when they have room, so a slow
 * worker never holds work an idle one could do beyond its few chunks in flight.
 */
public final class Scheduler {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workAvailable = lock.newCondition();
    private final ArrayDeque<Chunk> requeued = new ArrayDeque<>();
    private final ArrayDeque<Job> jobs = new ArrayDeque<>();
    private boolean closed;

    /** Queues a job's chunks without waking anyone: the caller dispatches (see {@link Engine#dispatch}). */
    public void add(Job job) {
        lock.lock();
        try {
            jobs.add(job);
        } finally {
            lock.unlock();
        }
    }

    public void requeue(Chunk chunk) {
        lock.lock();
        try {
            requeued.addFirst(chunk);
            workAvailable.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every thread waiting for work. */
    public void poke() {
        lock.lock();
        try {
            workAvailable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The next chunk if there is one now; never waits. */
    public Chunk pollNow() {
        lock.lock();
        try {
            return closed ? null : next();
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to the timeout until some chunk can be taken; true if one can (it may be gone by then). */
    public boolean awaitWork(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (!closed && !hasWork()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = workAvailable.awaitNanos(nanos);
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    private boolean hasWork() {
        requeued.removeIf(c -> c.job().isFinished());
        if (!requeued.isEmpty()) {
            return true;
        }
        for (Job job : jobs) {
            if (job.hasChunk()) {
                return true;
            }
        }
        return false;
    }

    /** True when a chunk can be taken now. */
    public boolean hasWorkNow() {
        lock.lock();
        try {
            return !closed && hasWork();
        } finally {
            lock.unlock();
        }
    }

    private Chunk next() {
        while (!requeued.isEmpty()) {
            Chunk chunk = requeued.pollFirst();
            if (!chunk.job().isFinished()) {
                return chunk;
            }
        }
        for (Iterator<Job> it = jobs.iterator(); it.hasNext(); ) {
            Job job = it.next();
            if (job.exhausted()) {
                it.remove();
                continue;
            }
            Chunk chunk = job.nextChunk();
            if (chunk != null) {
                job.handedOut = true;
                return chunk;
            }
        }
        return null;
    }

    /** Fails {@code job} as withdrawn unless some of its work was handed out; true if it was withdrawn. */
    public boolean withdraw(Job job) {
        lock.lock();
        try {
            if (job.handedOut || job.isFinished()) {
                return false;
            }
            job.withdrawn = true;
            job.failAll(new ProcessPoolException("withdrawn before it started: the pool was shut down now"));
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Stops handing out chunks and wakes every waiting worker. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            workAvailable.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
