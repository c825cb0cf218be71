package dev.procpool;

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
final class Scheduler {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workAvailable = lock.newCondition();
    private final ArrayDeque<Chunk> requeued = new ArrayDeque<>();
    private final ArrayDeque<Job> jobs = new ArrayDeque<>();
    private boolean closed;

    void submit(Job job) {
        lock.lock();
        try {
            jobs.add(job);
            workAvailable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void requeue(Chunk chunk) {
        lock.lock();
        try {
            requeued.addFirst(chunk);
            workAvailable.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes workers waiting for a job that may now give a chunk (an imap consumer made room). */
    void poke() {
        lock.lock();
        try {
            workAvailable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next chunk, waiting up to {@code timeoutNanos}; null on time-out or once the scheduler is
     * closed.
     */
    Chunk poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (true) {
                if (closed) {
                    return null;
                }
                Chunk chunk = next();
                if (chunk != null) {
                    return chunk;
                }
                if (nanos <= 0) {
                    return null;
                }
                nanos = workAvailable.awaitNanos(nanos);
            }
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
                return chunk;
            }
        }
        return null;
    }

    /** True when no chunk waits to be pulled (in-flight work is the workers' to track). */
    boolean isEmpty() {
        lock.lock();
        try {
            requeued.removeIf(c -> c.job().isFinished());
            jobs.removeIf(Job::exhausted);
            return requeued.isEmpty() && jobs.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** Stops handing out chunks and wakes every waiting worker. */
    void close() {
        lock.lock();
        try {
            closed = true;
            workAvailable.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
