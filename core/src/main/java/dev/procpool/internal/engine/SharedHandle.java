package dev.procpool.internal.engine;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoSerializable;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import dev.procpool.Shared;
import dev.procpool.internal.worker.SharedValues;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The {@link Shared} handle {@code Pool.share} returns. In the JVM that shared the value it holds the
 * object itself (thread mode's tasks use exactly that); what travels with a task is only the id, and a
 * worker's {@code get()} asks the worker's registry ({@link SharedValues}), which fetches the value
 * from the parent once.
 *
 * <p>Ids are unique across JVMs in practice (a random 63-bit start per JVM, then counted), so that a
 * cluster member serving several callers never confuses two values.
 *
 * <p>Threads: any thread may call {@code get()} and {@code close()}; {@code value} and {@code closed}
 * are volatile, {@code close()} runs the owner's release once ({@code closed} flips under this).
 */
public final class SharedHandle<T> implements Shared<T>, KryoSerializable {
    private static final long serialVersionUID = 1L;
    private static final AtomicLong NEXT_ID = new AtomicLong(ThreadLocalRandom.current().nextLong() >>> 1);

    private long id;
    /** Set only in the JVM that shared the value; null once closed. */
    private transient volatile T value;
    private transient volatile boolean closed;
    /** What closing frees (the pool's record of the value); null where the handle was deserialized. */
    private transient LongConsumer owner;

    /** For Kryo: a handle being read. */
    public SharedHandle() {}

    SharedHandle(long id, T value, LongConsumer owner) {
        this.id = id;
        this.value = value;
        this.owner = owner;
    }

    static long newId() {
        return NEXT_ID.getAndIncrement();
    }

    public long id() {
        return id;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T get() {
        T local = value;
        if (local != null) {
            return local;
        }
        if (closed) {
            throw new IllegalStateException("shared value " + SharedValues.name(id) + " was closed");
        }
        return (T) SharedValues.get(id); // a worker JVM: its registry, which asks the parent once
    }

    @Override
    public void close() {
        LongConsumer release;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            value = null;
            release = owner;
            owner = null;
        }
        if (release != null) {
            release.accept(id);
        }
    }

    /** The pool ended: the handle is closed, its value already freed with the pool's. */
    synchronized void poolEnded() {
        closed = true;
        value = null;
        owner = null;
    }

    @Override
    public void write(Kryo kryo, Output output) {
        output.writeLong(id);
    }

    @Override
    public void read(Kryo kryo, Input input) {
        id = input.readLong();
    }

    @Override
    public String toString() {
        return "Shared" + SharedValues.name(id) + (closed ? " (closed)" : "");
    }
}
