package dev.procpool;

import java.util.concurrent.atomic.AtomicLong;

/** The pool's live counters; {@link PoolStats} is their snapshot. */
final class PoolCounters {
    final AtomicLong succeeded = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong crashes = new AtomicLong();
    final AtomicLong timeouts = new AtomicLong();
    final AtomicLong workersStarted = new AtomicLong();
    final AtomicLong recycled = new AtomicLong();
}
