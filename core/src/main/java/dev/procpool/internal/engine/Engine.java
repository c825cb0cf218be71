package dev.procpool.internal.engine;

import dev.procpool.PoolMode;
import dev.procpool.PoolStats;

/**
 * Runs the chunks a {@link Scheduler} hands out: on worker JVMs, on threads, or on cluster members. The
 * {@link EnginePool} above it owns the calls and the scheduler; an engine owns only its workers.
 */
public interface Engine {
    /** How often a watch checks a time limit: a tenth of it, between 1 and 100 ms (100 ms without one). */
    static long watchIntervalMillis(java.time.Duration limit) {
        return limit == null ? 100 : Math.max(1, Math.min(100, limit.toMillis() / 10));
    }

    PoolMode mode();

    /** How many tasks can run at once now (the worker count): chunk sizes are cut for it. */
    int parallelism();

    /** Ends every worker once the scheduler is closed; waits up to the deadline. Work still queued is not run. */
    void shutdown(long deadlineNanos) throws InterruptedException;

    /** Kills every worker now; returns without waiting for more than a short, bounded time. */
    void terminate();

    /**
     * Why this engine cannot run the job's task at all (its class cannot reach the workers), or null:
     * the call then fails before any input runs.
     */
    default dev.procpool.ProcessPoolException cannotRun(Job job) {
        return null;
    }

    /**
     * Makes a value given to {@code Pool.share} reachable to this engine's workers under {@code id}, before
     * any task can ask for it; blocks until it is. Engines whose tasks run in this JVM need nothing (the
     * handle holds the object).
     *
     * @throws dev.procpool.ProcessPoolException the value cannot be made available (cannot be serialized,
     *                                           no room in shared memory)
     */
    default void share(long id, Object value) {}

    /** Frees what {@link #share} made and tells the workers; never blocks on a worker. Unknown ids are ignored. */
    default void unshare(long id) {}

    /** Hands queued chunks to idle workers, on the calling thread where it can; wakes the rest. */
    void dispatch();

    /** Stops whatever task of this job is running now (cancel(true)): kills its worker, or interrupts its thread. */
    void interruptRunning(Job job);

    /**
     * Completes once, after {@link #shutdown} or {@link #terminate}, no task of this engine runs any
     * more: every worker JVM has exited, every pool thread (abandoned ones included) has ended.
     */
    java.util.concurrent.CompletableFuture<Void> stopped();

    /** A snapshot of the live workers. */
    java.util.List<PoolStats.Worker> workers();
}
