package dev.procpool;

/**
 * A large read-only value handed to a pool once ({@link Pool#share}), for its tasks to read: capture the
 * handle in a task and call {@link #get()} there, instead of passing the value as an argument to every
 * task.
 *
 * <pre>{@code
 * try (Shared<double[]> table = pool.share(bigTable)) {
 *     List<Double> out = pool.map(i -> score(table.get(), i), indices);
 * }
 * }</pre>
 *
 * <p>Where the value lives:
 * <ul>
 *   <li>{@link PoolMode#THREADS}: {@code get()} returns the very object given to {@code share}.</li>
 *   <li>{@link PoolMode#PROCESSES}: {@code share} writes the value once into one shared-memory file of the
 *       machine ({@code /dev/shm}); each worker JVM fetches it the first time one of its tasks calls
 *       {@code get()}, and keeps it for its later tasks. A replacement worker (after a crash, a timeout,
 *       {@code maxTasksPerWorker} recycling) fetches it again the same way. A primitive array is copied
 *       once per worker out of the shared file; a {@link java.nio.ByteBuffer} is the read-only mapping of
 *       the shared file itself (no copy); any other value is deserialized once per worker.</li>
 *   <li>A cluster pool: the value is sent to each member once, and from there to its workers as above.</li>
 * </ul>
 *
 * <p>The value must not be modified, neither by the caller after {@code share} nor by tasks: workers may
 * have copies taken at different times, and in thread mode, or within one worker, every task sees the
 * same object. A modification is never sent anywhere.
 *
 * <p>Closing ({@link #close()}, or closing or terminating the pool) frees the shared file and tells the
 * workers to drop their copies. Calls already running are not stopped: a task that already holds the
 * value keeps it; a {@code get()} after the close fails. Close a handle after the calls that use it.
 * The handle is {@link java.io.Serializable} so that tasks can capture it; it works in the tasks of the
 * pool that made it.
 *
 * @param <T> the value's type
 */
public interface Shared<T> extends java.io.Serializable, AutoCloseable {

    /**
     * The shared value: in a task, or in the JVM that shared it. Does not block in the JVM that shared it
     * or once a worker has the value; a worker's first {@code get()} waits for the value to be mapped
     * (and read, for values that are not a {@code ByteBuffer}).
     *
     * @return the value; never null
     * @throws IllegalStateException the handle or its pool was closed (a task that calls it fails with a
     *                               {@link TaskFailedException} whose cause is this exception), the value
     *                               cannot be read in this worker, or this JVM is neither the one that
     *                               shared it nor one of its pool's workers
     */
    T get();

    /**
     * Frees the value: the shared-memory file is deleted (mappings workers hold stay valid until they
     * let them go), workers drop their copies, later {@code get()}s fail. Idempotent; never waits on a
     * worker JVM (a busy one is told before its next task); a cluster pool waits up to a few seconds for
     * its members to confirm.
     */
    @Override
    void close();
}
