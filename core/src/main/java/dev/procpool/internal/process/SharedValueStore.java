package dev.procpool.internal.process;

import dev.procpool.ProcessPoolException;
import dev.procpool.internal.worker.KryoSetup;
import dev.procpool.internal.worker.SharedSegments;
import dev.procpool.internal.worker.SharedValues;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Parent side of {@code Pool.share} for worker JVMs: one shared-memory segment per shared value, written
 * once when it is shared, named with this JVM's pid and owner-only like every segment
 * ({@link SharedSegments}), read by any number of workers, deleted by this store alone when the value
 * is closed (or the pool ends). A {@code kill -9} of this JVM leaves it to the next pool's sweep of
 * dead pids; a worker's crash does not touch it.
 *
 * <p>Workers ask for a value by id the first time a task calls {@code get()} ({@link #reference}, on a
 * worker's reader thread: a map lookup, nothing that waits). Closing appends the id to {@link #releases},
 * which each worker's {@link ChunkSender} sends on before its next chunk: a task sent after the close
 * finds the value gone in its worker, whatever the worker cached.
 *
 * <p>Threads: {@link #share} on the caller's thread, {@link #reference} on readers, {@link #unshare} on any;
 * {@code files} is concurrent, {@code released} guarded by this.
 */
final class SharedValueStore {
    private final SharedSegments segments = SharedSegments.get();
    private final Map<Long, SharedSegments.SharedFile> files = new ConcurrentHashMap<>();
    private final List<Long> released = new ArrayList<>();

    /** Writes the value's segment; blocks until it is written. */
    void share(long id, Object value) {
        if (files.containsKey(id)) {
            return;
        }
        ClassLoader loader = value.getClass().getClassLoader();
        try {
            SharedSegments.SharedFile file = segments.share(
                    KryoSetup.newKryo(loader == null ? SharedValueStore.class.getClassLoader() : loader), value);
            files.put(id, file);
        } catch (IOException e) {
            throw new ProcessPoolException("cannot share a " + value.getClass().getName() + " with worker JVMs: " + e, e);
        } catch (RuntimeException | StackOverflowError e) {
            throw new ProcessPoolException("cannot share a " + value.getClass().getName()
                    + " with worker JVMs: it cannot be serialized: " + e, e);
        }
    }

    /** The reference a worker reads the value by, or null when it was closed or never shared here. */
    byte[] reference(long id) {
        SharedSegments.SharedFile file = files.get(id);
        return file == null ? null : file.reference();
    }

    static String missing(long id) {
        return "shared value " + SharedValues.name(id) + " was closed, or was not shared with this pool";
    }

    /** Deletes the value's segment and queues its release for every worker. */
    void unshare(long id) {
        SharedSegments.SharedFile file = files.remove(id);
        if (file == null) {
            return;
        }
        SharedSegments.delete(file.path()); // workers' mappings stay valid; nobody new can open it
        synchronized (this) {
            released.add(id);
        }
    }

    /** Deletes every segment (the pool ended). */
    void unshareAll() {
        for (Long id : List.copyOf(files.keySet())) {
            unshare(id);
        }
    }

    /** How many releases there are so far: a new worker starts past them. */
    synchronized int releaseCount() {
        return released.size();
    }

    /** The releases from {@code from} on. */
    synchronized List<Long> releases(int from) {
        return from >= released.size() ? List.of() : List.copyOf(released.subList(from, released.size()));
    }
}
