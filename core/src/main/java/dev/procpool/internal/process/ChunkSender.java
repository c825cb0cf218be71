package dev.procpool.internal.process;

import dev.procpool.ProcessPoolException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.FunctionCache;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.Scheduler;
import dev.procpool.internal.worker.CodeMessage;
import dev.procpool.internal.worker.ConfigMessage;
import dev.procpool.internal.worker.Elements;
import dev.procpool.internal.worker.FrameChannel;
import dev.procpool.internal.worker.FunctionMessage;
import dev.procpool.internal.worker.HeartbeatMessage;
import dev.procpool.internal.worker.KryoSetup;
import dev.procpool.internal.worker.ReleaseMessage;
import dev.procpool.internal.worker.SharedMessage;
import dev.procpool.internal.worker.SharedSegments;
import dev.procpool.internal.worker.ShutdownMessage;
import dev.procpool.internal.worker.TasksMessage;
import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the parent writes to one worker: its configuration, then chunks pulled from the
 * scheduler whenever the worker has room (each preceded by its function the first time), function
 * releases, and finally SHUTDOWN. Whoever holds the send lock writes; most chunks go out on the
 * thread that made the work or the room ({@link #fill}), the rest from a background loop
 * ({@link #sendLoop}) that waits for both.
 */
final class ChunkSender {
    private static final Logger log = LoggerFactory.getLogger(ChunkSender.class);

    private final WorkerProcess worker;
    private final WorkerJvm jvm;
    private final Scheduler scheduler;
    private final SharedValueStore sharedValues;
    /** Set once CONFIG is written: nothing may precede it on the pipe. */
    private volatile boolean configSent;

    // Guarded by lock.
    private final ReentrantLock lock = new ReentrantLock();
    private long nextSequence;
    private final Map<Long, FunctionCache.SentFunction> functionsSent = new HashMap<>();
    /** Made on first send: a cold Kryo costs ~100 ms, better spent while the worker JVM boots. */
    private Kryo kryo;
    private final TasksMessage.Encoder tasks;
    /** How many of the store's releases this worker was sent (a new worker starts past the old ones). */
    private int sharedReleasesSent;

    ChunkSender(WorkerProcess worker, WorkerJvm jvm, Scheduler scheduler, SharedValueStore sharedValues) {
        this.worker = worker;
        this.jvm = jvm;
        this.scheduler = scheduler;
        this.sharedValues = sharedValues;
        this.sharedReleasesSent = sharedValues.releaseCount();
        this.tasks = new TasksMessage.Encoder(SharedSegments.get(), jvm.rings() == null ? null : jvm.rings().toWorker());
    }

    /**
     * Unmaps the worker's rings once it is dead; waits for a send in progress (which may be copying into
     * the ring), and none can start after: a dead worker has no send budget.
     */
    void unmapRings() {
        if (jvm.rings() == null) {
            return;
        }
        lock.lock();
        try {
            jvm.rings().unmap();
        } finally {
            lock.unlock();
        }
    }

    /** The first frame, written as soon as the pipes open: the worker boots while it waits for it. */
    void sendConfig(Object initializer) {
        try {
            OutputStream stdin = jvm.stdin();
            ConfigMessage.write(stdin, initializer, ChunkSender.class.getClassLoader());
            stdin.flush();
            configSent = true;
        } catch (IOException e) {
            log.debug("worker-{}: could not send its configuration: {}", worker.id, e.toString());
        }
    }

    /** The background sender: waits until the worker has room and the scheduler has work, then fills. */
    void sendLoop() {
        try {
            while (true) {
                switch (worker.awaitSendable()) {
                    case STOP -> {
                        return;
                    }
                    case SHUTDOWN -> fill(true, ChunkPacing.MAX_CHUNKS_IN_FLIGHT);
                    case PING -> ping();
                    case ROOM -> {
                        if (scheduler.awaitWork(100, TimeUnit.MILLISECONDS)) {
                            fill(true, ChunkPacing.MAX_CHUNKS_IN_FLIGHT);
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            // the worker died or the pool is stopping
        }
    }

    /**
     * Asks the worker for a PONG. On this loop's thread, never the watch's: a frozen worker stops reading,
     * and a write into its full pipe blocks until it is killed.
     */
    private void ping() {
        lock.lock();
        try {
            OutputStream stdin = jvm.stdin();
            HeartbeatMessage.write(stdin, HeartbeatMessage.PING);
            stdin.flush();
        } catch (IOException e) {
            log.debug("worker-{}: ping failed ({}); the reader settles its tasks", worker.id, e.toString());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends chunks while the worker has room (leaving it at most {@code upTo} in flight) and the
     * scheduler has work, on the calling thread; sends SHUTDOWN instead once the worker is drained
     * and due to stop. Never waits for work. With {@code block} false it gives up at once when another
     * thread is sending to this worker (that thread fills it, or the background sender will).
     */
    void fill(boolean block, int upTo) {
        if (block) {
            lock.lock();
        } else if (!lock.tryLock()) {
            return;
        }
        try {
            while (true) {
                long budget = worker.sendBudget(upTo);
                if (budget == WorkerProcess.NO_ROOM) {
                    return;
                }
                if (budget == WorkerProcess.SEND_SHUTDOWN) {
                    OutputStream stdin = jvm.stdin();
                    ShutdownMessage.write(stdin);
                    stdin.close(); // flushes; nothing follows
                    worker.shutdownSent();
                    return;
                }
                Chunk chunk = scheduler.pollNow();
                if (chunk == null) {
                    return;
                }
                if (chunk.size() > budget) {
                    scheduler.requeue(chunk.tail((int) budget));
                    chunk = chunk.head((int) budget);
                }
                send(chunk);
            }
        } catch (FrameChannel.FrameTooLargeException e) {
            // sizes are checked before a chunk counts as sent, so this is a bug; killing the worker turns
            // what would be a call waiting forever into a crash its tasks are settled by
            log.error("worker-{}: {}; killing the worker", worker.id, e.getMessage());
            worker.kill();
        } catch (IOException e) {
            log.debug("worker-{}: sending failed ({}); the reader settles its tasks", worker.id, e.toString());
        } finally {
            lock.unlock();
        }
    }

    /** Encodes and writes one chunk (and its function, the first time). */
    private void send(Chunk chunk) throws IOException {
        Job job = chunk.job();
        if (job.isFinished()) {
            return;
        }
        if (kryo == null) {
            kryo = KryoSetup.newKryo(ChunkSender.class.getClassLoader());
        }
        FunctionCache.SentFunction function;
        try {
            function = job.functions.get(job, kryo);
        } catch (ProcessPoolException e) {
            job.failAll(e);
            return;
        }
        if (function.bytes.length > FunctionMessage.MAX_ENCODED_BYTES) {
            job.failAll(new ProcessPoolException(
                    FrameChannel.tooLarge("the task function with what it captures", function.bytes.length)));
            return;
        }
        chunk = encodeInputs(chunk);
        if (chunk == null) {
            return;
        }
        long firstSequence = nextSequence;
        List<Path> segments = tasks.takeSegments();
        if (!worker.chunkSent(chunk, firstSequence, segments)) {
            SharedSegments.deleteAll(segments);
            scheduler.requeue(chunk);
            return;
        }
        nextSequence += chunk.size();
        OutputStream stdin = jvm.stdin();
        writeSharedReleases(stdin);
        if (!functionsSent.containsKey(function.id)) {
            releaseFunctions(stdin);
            FunctionMessage.write(stdin, function.id, CallerCode.scopeOf(job.classLoader), function.bytes);
            functionsSent.put(function.id, function);
        }
        tasks.write(stdin, function.id, firstSequence);
        stdin.flush();
    }

    /**
     * Encodes the chunk's inputs into one frame. One that cannot be serialized, or that is too big for a
     * frame even alone, fails alone and is left out; when the frame is full the rest of the chunk goes
     * back to the scheduler, to be sent next. Returns the chunk as encoded, or null when none of it was.
     */
    private Chunk encodeInputs(Chunk chunk) {
        Job job = chunk.job();
        if (kryo.getClassLoader() != job.classLoader) {
            kryo.setClassLoader(job.classLoader);
        }
        tasks.reset();
        int[] kept = new int[chunk.size()];
        int n = 0;
        for (int i = 0; i < chunk.size(); i++) {
            Object input = chunk.inputs()[i];
            long index = chunk.indices()[i];
            try {
                if (tasks.add(kryo, input)) {
                    kept[n++] = i;
                } else if (tasks.count() > 0) {
                    scheduler.requeue(chunk.tail(i));
                    break;
                } else {
                    job.failed(index, new ProcessPoolException(
                            FrameChannel.tooLarge("input " + index, Elements.measure(kryo, input)), null, index));
                }
            } catch (RuntimeException | StackOverflowError e) {
                job.failed(index, new ProcessPoolException(
                        "input " + index + " cannot be sent to a worker JVM: " + Job.describe(e), e, index));
            }
        }
        if (n == chunk.size()) {
            return chunk;
        }
        if (n == 0) {
            return null;
        }
        long[] indices = new long[n];
        Object[] inputs = new Object[n];
        for (int j = 0; j < n; j++) {
            indices[j] = chunk.indices()[kept[j]];
            inputs[j] = chunk.inputs()[kept[j]];
        }
        return new Chunk(job, indices, inputs);
    }

    /**
     * Answers a worker's request for a class or resource from the caller's loader (on the reader's
     * thread: the worker's reader never waits on anything, so this write cannot be held up for long).
     */
    void answer(CodeMessage.Request request) {
        String[] reason = new String[1];
        byte[] bytes = CallerCode.bytesFor(request, reason);
        if (bytes == null) {
            log.debug("worker-{}: {} {} not available: {}", worker.id, request.forClass() ? "class" : "resource",
                    request.name(), reason[0]);
        } else {
            log.debug("worker-{}: sending {} {} ({} bytes)", worker.id, request.forClass() ? "class" : "resource",
                    request.name(), bytes.length);
        }
        lock.lock();
        try {
            OutputStream stdin = jvm.stdin();
            CodeMessage.writeAnswer(stdin, request, bytes, reason[0]);
            stdin.flush();
        } catch (IOException e) {
            log.debug("worker-{}: answering failed ({}); the reader settles its tasks", worker.id, e.toString());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Answers a worker's request for a shared value (on the reader's thread, as {@link #answer}): the
     * reference to its segment, or why there is none.
     */
    void answerShared(SharedMessage.Request request) {
        byte[] reference = sharedValues.reference(request.sharedId());
        lock.lock();
        try {
            OutputStream stdin = jvm.stdin();
            SharedMessage.writeAnswer(stdin, request.requestId(), reference,
                    reference == null ? SharedValueStore.missing(request.sharedId()) : null);
            stdin.flush();
        } catch (IOException e) {
            log.debug("worker-{}: answering failed ({}); the reader settles its tasks", worker.id, e.toString());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends the shared values' releases now if nobody is writing to this worker; otherwise they go ahead
     * of its next chunk. Never waits for the lock: closing a shared value must not wait on a busy pipe.
     */
    void sendSharedReleases() {
        if (!configSent || !lock.tryLock()) {
            return;
        }
        try {
            OutputStream stdin = jvm.stdin();
            if (writeSharedReleases(stdin)) {
                stdin.flush();
            }
        } catch (IOException e) {
            log.debug("worker-{}: sending a release failed ({}); the reader settles its tasks", worker.id, e.toString());
        } finally {
            lock.unlock();
        }
    }

    /** Writes the releases this worker has not had yet; true if there were any. Guarded by lock. */
    private boolean writeSharedReleases(OutputStream stdin) throws IOException {
        List<Long> releases = sharedValues.releases(sharedReleasesSent);
        for (long id : releases) {
            SharedMessage.writeRelease(stdin, id);
        }
        sharedReleasesSent += releases.size();
        return !releases.isEmpty();
    }

    /** Tells the worker to forget functions no call will use again. */
    private void releaseFunctions(OutputStream stdin) throws IOException {
        for (var it = functionsSent.values().iterator(); it.hasNext(); ) {
            FunctionCache.SentFunction function = it.next();
            if (function.releasable()) {
                it.remove();
                ReleaseMessage.write(stdin, function.id);
            }
        }
    }
}
