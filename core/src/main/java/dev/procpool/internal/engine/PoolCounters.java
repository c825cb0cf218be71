package dev.procpool.internal.engine;

import dev.procpool.PoolStats;

import java.util.concurrent.atomic.AtomicLong;

/** The pool's live counters; {@link PoolStats} is their snapshot. */
public final class PoolCounters {
    public final AtomicLong succeeded = new AtomicLong();
    public final AtomicLong failed = new AtomicLong();
    public final AtomicLong retried = new AtomicLong();
    public final AtomicLong crashes = new AtomicLong();
    public final AtomicLong timeouts = new AtomicLong();
    public final AtomicLong workersStarted = new AtomicLong();
    public final AtomicLong recycled = new AtomicLong();
}
