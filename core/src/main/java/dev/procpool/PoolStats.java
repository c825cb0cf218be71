package dev.procpool;

import java.time.Duration;
import java.util.List;

/**
 * A snapshot of a pool's counters since it was built, from {@link ProcessPool#stats()}.
 *
 * @param mode            where tasks run
 * @param workers         live, ready workers (in thread mode: the pool threads, pid of this JVM)
 * @param tasksSucceeded  tasks that returned a value
 * @param tasksFailed     tasks that ended in a failure of any kind (thrown, crashed, timed out)
 * @param tasksRetried    crashed tasks that were run again because the pool allows retries
 * @param workerCrashes   workers that died unexpectedly (crash, kill, timeout, corrupt channel)
 * @param taskTimeouts    tasks that ran past the task timeout
 * @param workersStarted  workers that became ready, replacements included
 * @param workersRecycled workers that exited normally after {@code maxTasksPerWorker} tasks
 * @param spares          spare worker JVMs waiting now for pools with this pool's JVM settings (see
 *                        {@link ProcessPool.Builder#spareWorkers}): started, with no pool's state, shared
 *                        with other pools of those settings in this JVM; each with its pid and uptime, its
 *                        id a number among this JVM's spares. Empty in thread mode and on a cluster
 */
public record PoolStats(
        PoolMode mode,
        List<Worker> workers,
        long tasksSucceeded,
        long tasksFailed,
        long tasksRetried,
        long workerCrashes,
        long taskTimeouts,
        long workersStarted,
        long workersRecycled,
        List<Worker> spares) {

    /** The counters without spares, as before spares were counted. */
    public PoolStats(PoolMode mode, List<Worker> workers, long tasksSucceeded, long tasksFailed, long tasksRetried,
            long workerCrashes, long taskTimeouts, long workersStarted, long workersRecycled) {
        this(mode, workers, tasksSucceeded, tasksFailed, tasksRetried, workerCrashes, taskTimeouts, workersStarted,
                workersRecycled, List.of());
    }

    /** One live worker. */
    public record Worker(int id, long pid, Duration uptime) {}
}
