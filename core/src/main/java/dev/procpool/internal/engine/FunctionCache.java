package dev.procpool.internal.engine;

import dev.procpool.ProcessPoolException;

import com.esotericsoftware.kryo.kryo5.Kryo;
import dev.procpool.internal.worker.FunctionMessage;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Task functions as workers receive them, serialized once and kept by identity, so that a function
 * used in many calls ({@code apply} in a loop) crosses to each worker once. Small functions only, and
 * a bounded number: an evicted one is released in the workers the next time they are sent work.
 */
public final class FunctionCache {
    public static final int MAX_ENTRIES = 64;
    public static final int MAX_CACHED_BYTES = 16 * 1024;
    private static final AtomicLong IDS = new AtomicLong();

    /** A function with its wire id; {@code owner} is set when it belongs to one call only. */
    public static final class SentFunction {
        public final long id = IDS.incrementAndGet();
        public final byte[] bytes;
        private final Job owner;
        private volatile boolean evicted;

        SentFunction(byte[] bytes, Job owner) {
            this.bytes = bytes;
            this.owner = owner;
        }

        /** True once no call will send tasks for it again: workers may forget it. */
        public boolean releasable() {
            return evicted || owner != null && owner.isFinished();
        }
    }

    private record IdentityKey(Object function) {
        @Override
        public boolean equals(Object other) {
            return other instanceof IdentityKey key && key.function == function;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(function);
        }
    }

    private final Map<IdentityKey, SentFunction> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<IdentityKey, SentFunction> eldest) {
            if (size() > MAX_ENTRIES) {
                eldest.getValue().evicted = true;
                return true;
            }
            return false;
        }
    };

    /**
     * The job's function, serialized with {@code kryo} on first use.
     *
     * @throws ProcessPoolException when the function cannot be serialized
     */
    public synchronized SentFunction get(Job job, Kryo kryo) {
        IdentityKey key = new IdentityKey(job.function);
        SentFunction known = cache.get(key);
        if (known != null) {
            return known;
        }
        byte[] bytes = serialize(job, kryo);
        if (bytes.length > MAX_CACHED_BYTES) {
            return new SentFunction(bytes, job);
        }
        SentFunction sent = new SentFunction(bytes, null);
        cache.put(key, sent);
        return sent;
    }

    private static byte[] serialize(Job job, Kryo kryo) {
        try {
            return FunctionMessage.encode(kryo, job.function);
        } catch (RuntimeException | StackOverflowError e) {
            throw new ProcessPoolException("the task function cannot be sent to a worker JVM: " + Job.describe(e), e);
        }
    }
}
