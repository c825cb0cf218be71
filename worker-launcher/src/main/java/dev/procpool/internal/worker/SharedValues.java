package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * Worker side of {@code Pool.share}: the values shared with this worker's pool, fetched from the parent
 * the first time a task calls {@code get()} on one and kept for the worker's life, or until the parent
 * says the value was closed.
 *
 * <p>Why fetch on first use: a worker receives a value once, whether it was shared before it started
 * (replacement and recycled workers fetch it as the first did) or after, and a worker whose tasks never
 * call {@code get()} never receives it. What travels is only a reference to the one segment the parent
 * wrote ({@link LargeValues#writeShared}); this side maps it ({@link LargeValues#readShared}).
 *
 * <p>Threading: {@link #value} runs on task threads (a task may start threads of its own: one fetch per
 * value at a time, under {@link #fetching}); {@link #answered} and {@link #released} on the worker's frame
 * reader, which never waits on anything here. A release that overtakes a fetch wins: the value fetched is
 * handed to the get() that asked, never cached.
 */
public final class SharedValues {
    /** The parent answers from its reader thread at once; this only bounds a parent that stopped answering. */
    private static final long ANSWER_TIMEOUT_SECONDS = 60;
    private static volatile SharedValues current;

    private final OutputStream channel;
    private final Lock channelLock;
    private final AtomicLong requestIds = new AtomicLong();
    /** Values received, by shared id. */
    private final Map<Long, Object> values = new ConcurrentHashMap<>();
    /** Values the parent said were closed (or never had): why, by shared id. */
    private final Map<Long, String> gone = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<SharedMessage.Answer>> pending = new ConcurrentHashMap<>();
    /** Held while one value is fetched and read, so that concurrent get()s of a task's threads fetch it once. */
    private final Object fetching = new Object();
    private final AtomicInteger fetches = new AtomicInteger();

    SharedValues(OutputStream channel, Lock channelLock) {
        this.channel = channel;
        this.channelLock = channelLock;
    }

    /** Makes this the registry {@link #get} uses in this JVM (the worker's). */
    void install() {
        current = this;
    }

    /**
     * The value shared under {@code sharedId}, for a task running in this worker: fetched the first time.
     *
     * @throws IllegalStateException the value was closed, is unknown to this worker's pool, cannot be read,
     *                               or this JVM is not a procpool worker
     */
    public static Object get(long sharedId) {
        SharedValues registry = current;
        if (registry == null) {
            throw new IllegalStateException("shared value " + name(sharedId) + " is only available in the JVM that"
                    + " shared it and in the worker JVMs of its pool; this JVM is neither");
        }
        return registry.value(sharedId);
    }

    /** How many shared values this worker JVM has received from its parent (0 outside a worker). */
    public static int transfers() {
        SharedValues registry = current;
        return registry == null ? 0 : registry.fetches.get();
    }

    /** How a shared value is named in messages. */
    public static String name(long sharedId) {
        return "#" + Long.toHexString(sharedId);
    }

    private Object value(long sharedId) {
        Object value = values.get(sharedId);
        if (value != null) {
            return value;
        }
        synchronized (fetching) {
            value = values.get(sharedId);
            if (value != null) {
                return value;
            }
            String why = gone.get(sharedId);
            if (why != null) {
                throw new IllegalStateException("shared value " + name(sharedId) + " is not available: " + why);
            }
            SharedMessage.Answer answer = fetch(sharedId);
            if (answer.reference() == null) {
                gone.putIfAbsent(sharedId, answer.reason());
                throw new IllegalStateException("shared value " + name(sharedId) + " is not available: " + answer.reason());
            }
            ClassLoader loader = Thread.currentThread().getContextClassLoader(); // the task's: its classes
            Kryo kryo = KryoSetup.newKryo(loader == null ? SharedValues.class.getClassLoader() : loader);
            value = LargeValues.readShared(kryo, answer.reference());
            fetches.incrementAndGet();
            values.put(sharedId, value);
            if (gone.containsKey(sharedId)) { // released while we read it: this get() has it, nobody else
                values.remove(sharedId);
            }
            return value;
        }
    }

    private SharedMessage.Answer fetch(long sharedId) {
        long id = requestIds.incrementAndGet();
        CompletableFuture<SharedMessage.Answer> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            channelLock.lock();
            try {
                SharedMessage.writeRequest(channel, id, sharedId);
                channel.flush();
            } finally {
                channelLock.unlock();
            }
            return answer.get(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("shared value " + name(sharedId) + ": the channel to the pool failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching shared value " + name(sharedId), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("shared value " + name(sharedId) + ": no answer from the pool within "
                    + ANSWER_TIMEOUT_SECONDS + " s");
        } finally {
            pending.remove(id);
        }
    }

    /** The reader took a SHARED_VALUE frame. */
    void answered(FrameChannel.Frame frame) {
        SharedMessage.Answer answer = SharedMessage.readAnswer(frame);
        CompletableFuture<SharedMessage.Answer> waiting = pending.remove(answer.requestId());
        if (waiting != null) {
            waiting.complete(answer);
        }
    }

    /** The reader took a SHARED_RELEASE frame: drop the value; later get()s fail. */
    void released(FrameChannel.Frame frame) {
        long sharedId = SharedMessage.readRelease(frame);
        gone.put(sharedId, "it was closed");
        values.remove(sharedId); // a ByteBuffer's mapping goes when the tasks holding it let it go
    }
}
