package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@code main} of a worker JVM: {@code WorkerMain <workerId> <slotFile> [own-fds]}.
 *
 * <p>With {@code own-fds} (where the launcher could arrange it) the frames travel on fds
 * {@value #CHANNEL_IN_FD} and {@value #CHANNEL_OUT_FD}, and fd 0 is {@code /dev/null} and fd 1 a copy of
 * stderr: what a task does to the standard descriptors (closes them, hands them to a child process
 * that outlives it) cannot touch the channel, and a task's children never hold its pipes. Without it,
 * stdin and stdout carry the frames. Either way {@code System.in} is empty and {@code System.out} is
 * pointed at stderr before any user code runs. Two threads share the work (see {@link #serve()}): one always reads stdin, so that the
 * parent's death (stdin EOF) is seen while a task runs; tasks run one at a time in the order they
 * arrived and their results are written in that order, so the parent needs no task ids on the way
 * back.
 *
 * <p>The reader decodes only what the worker's own class path can rebuild (scope 0: the caller's
 * application class loader, the plain {@code java -cp} case), so decoding the next chunk overlaps the
 * running one. Frames of a call whose classes come from another caller loader are queued as they came
 * and decoded by the thread that runs them: decoding may need a class that only the caller has
 * ({@link RemoteCode}), and the answer to that request must find a reader that is not itself waiting
 * for a class. Nor does the reader ever wait for the channel's write lock (a PING finding it held is
 * answered by the frame being written): so it always drains the parent's writes, and the parent may
 * answer a request from its own reading thread without risk of a deadlock.
 */
public final class WorkerMain {
    /** The argument that says the channel is on {@link #CHANNEL_IN_FD} and {@link #CHANNEL_OUT_FD}. */
    public static final String OWN_FDS = "own-fds";
    public static final int CHANNEL_IN_FD = 3;
    public static final int CHANNEL_OUT_FD = 4;
    /**
     * Results are handed to the pipe at least this often while tasks keep coming. The clock is read
     * before every task while tasks are slow, and ever more rarely (up to every
     * {@value #CLOCK_EVERY_MAX} tasks) while they are fast: reading it costs as much as a tiny task.
     */
    private static final long RESULT_FLUSH_NANOS = 200_000;
    private static final int CLOCK_EVERY_MAX = 16;
    private static final int RESULT_FLUSH_BYTES = 64 * 1024;
    /**
     * At the end of a chunk, results are handed over once this many are waiting: lets the parent refill a
     * worker that holds many small chunks before it runs dry. Inside a chunk only time and bytes count:
     * the parent needs no answer before the chunk's last (the running-task slot names the running task),
     * and every frame is a write, a wake-up of the parent's reader and a lock taken by the call.
     */
    private static final int RESULT_FLUSH_COUNT = 16;
    private static final long PARENT_POLL_MILLIS = 200;

    private final OutputStream channel;
    /** Guards writes to {@link #channel}: results, PONGs, code requests. */
    private final ReentrantLock channelLock = new ReentrantLock();
    private final RemoteCode remote;
    private final SharedValues shared;
    private final RunningTaskSlot slot;
    /** The reader's: frames of scope 0. */
    private final Kryo readKryo;
    /** The running thread's: frames of other scopes; made on first use. */
    private Kryo runKryo;
    private final Kryo writeKryo;
    /** Guards the roles and the queue: which thread reads stdin, which runs tasks. */
    private final Object roles = new Object();
    private final ArrayDeque<Object> work = new ArrayDeque<>();
    private boolean reading;
    private boolean running;
    private boolean shutdownRead;
    private InputStream stdin;
    /** Payload buffers for the reader, given back once their frame is decoded; guarded by roles. */
    private final ArrayDeque<byte[]> spareBuffers = new ArrayDeque<>();
    private static final int SPARE_BUFFER_MIN = 64 * 1024;
    /** The functions sent, by id: scope 0 ones put by the reader, others by the running thread. */
    private final Map<Long, Function> functions = new ConcurrentHashMap<>();
    /** The reader's: the scope of each function of a scope other than 0, until released. */
    private final Map<Long, Long> scopedFunctions = new HashMap<>();
    private final ResultsMessage.Encoder results;
    /** Medium inputs arrive here (read by whichever thread decodes their frame); null: the parent made no rings. */
    private final Ring inputRing;
    private final WorkerRings rings;
    private long sequence;

    private WorkerMain(OutputStream channel, RunningTaskSlot slot, WorkerRings rings, ClassLoader loader) {
        this.channel = channel;
        this.rings = rings;
        this.inputRing = rings == null ? null : rings.toWorker();
        this.results = new ResultsMessage.Encoder(this::handOffResults, SharedSegments.get(),
                rings == null ? null : rings.toParent());
        this.slot = slot;
        this.remote = new RemoteCode(channel, channelLock, loader);
        this.shared = new SharedValues(channel, channelLock);
        this.shared.install();
        this.spareBuffers.add(new byte[SPARE_BUFFER_MIN]);
        this.readKryo = KryoSetup.newKryo(loader);
        this.writeKryo = KryoSetup.newKryo(loader);
    }

    public static void main(String[] args) throws Exception {
        boolean ownFds = args.length == 3 && args[2].equals(OWN_FDS);
        OutputStream channel = new BufferedOutputStream(ownFds ? new FileOutputStream("/dev/fd/" + CHANNEL_OUT_FD)
                : new FileOutputStream(FileDescriptor.out), 64 * 1024);
        PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
        System.setOut(stderr);
        System.setErr(stderr);
        InputStream stdin = new BufferedInputStream(ownFds ? new FileInputStream("/dev/fd/" + CHANNEL_IN_FD)
                : new FileInputStream(FileDescriptor.in), 64 * 1024);
        System.setIn(new ByteArrayInputStream(new byte[0]));
        if (args.length != 2 && !ownFds) {
            stderr.println("usage: WorkerMain <workerId> <slotFile> [" + OWN_FDS + "]");
            Runtime.getRuntime().halt(WorkerExitCodes.PROTOCOL_ERROR);
        }
        Thread.currentThread().setName("procpool-worker-" + args[0]);
        RunningTaskSlot slot = RunningTaskSlot.map(Path.of(args[1]));
        WorkerRings rings = WorkerRings.map(Path.of(args[1])); // before READY: the parent then unlinks the file
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        watchParent();
        try {
            // before the first Kryo of this JVM: every Kryo needs them from its start
            KryoSetup.useCustomizers(KryoSetup.customizerNamesOf(System.getProperty(KryoSetup.CUSTOMIZERS_PROPERTY)), loader);
        } catch (RuntimeException failure) {
            stderr.println("procpool worker: " + failure.getMessage());
            exitNow(WorkerExitCodes.SETUP_FAILED);
        }
        new WorkerMain(channel, slot, rings, loader).run(stdin);
    }

    private void run(InputStream stdin) throws Exception {
        // Up, Kryo made, and no pool's state yet: a spare waits here, answering pings, until a pool sends its CONFIG.
        String javaVersion = Runtime.version().toString(); // ~10 ms of stream code the first time: not after CONFIG
        if (SpareWarmUp.worthIt(stdin)) { // nothing waits: a spare, whose first frames should find warm code
            SpareWarmUp.run(readKryo, writeKryo);
        }
        BootedMessage.write(channel, ProcessHandle.current().pid());
        channel.flush();
        FrameChannel.Frame config = FrameChannel.read(stdin);
        while (config != null && config.type() == HeartbeatMessage.PING) {
            HeartbeatMessage.write(channel, HeartbeatMessage.PONG);
            channel.flush();
            config = FrameChannel.read(stdin);
        }
        if (config == null || config.type() != ConfigMessage.TYPE) {
            protocolError("expected a CONFIG frame first");
        }
        try {
            Object initializer = ConfigMessage.readInitializer(readKryo, config);
            if (initializer != null) {
                ((Runnable) initializer).run();
            }
        } catch (Throwable failure) {
            InitFailedMessage.write(channel, failure);
            channel.flush();
            exitNow(WorkerExitCodes.INIT_FAILED);
        }
        ReadyMessage.write(channel, ProcessHandle.current().pid(), javaVersion);
        channel.flush();
        if (rings != null && WorkerRings.pretouchWanted()) {
            Thread touch = new Thread(rings::pretouch, "procpool-ring-touch");
            touch.setDaemon(true);
            touch.start();
        }

        this.stdin = stdin;
        Thread second = new Thread(this::serve, "procpool-worker-io");
        second.setDaemon(true);
        second.start();
        serve();
    }

    /** Stdin EOF is the main signal that the parent is gone; this catches a parent that leaves stdin open. */
    private static void watchParent() {
        long parentPid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
        Thread watcher = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(PARENT_POLL_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                long now = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
                if (now != parentPid) {
                    exitNow(WorkerExitCodes.PARENT_GONE);
                }
            }
        }, "procpool-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    /**
     * What both worker threads do. One of them reads stdin at all times, so that the parent's death
     * (EOF) is seen while a task runs and the parent's writes never block; the other runs tasks. When
     * the reader brings work and nobody runs, it runs the work itself and wakes the other thread to
     * read: the task starts without waiting for a thread to wake up.
     */
    private void serve() {
        try {
            while (true) {
                boolean run;
                synchronized (roles) {
                    while (true) {
                        if (!running && !work.isEmpty()) {
                            running = true;
                            run = true;
                            if (!reading) {
                                roles.notifyAll(); // the other thread takes over stdin
                            }
                            break;
                        }
                        if (!reading && !shutdownRead) {
                            reading = true;
                            run = false;
                            break;
                        }
                        roles.wait();
                    }
                }
                if (run) {
                    runTasks();
                    synchronized (roles) {
                        running = false;
                    }
                } else {
                    Object item = readFrame();
                    synchronized (roles) {
                        reading = false;
                        // nothing follows SHUTDOWN; a thread blocked reading stdin would delay the exit ~0.3 s
                        shutdownRead |= item == Shutdown.INSTANCE;
                        if (item != null) {
                            work.addLast(item);
                        }
                    }
                }
            }
        } catch (IOException | InterruptedException e) {
            protocolError("worker I/O failed: " + e);
        }
    }

    /**
     * Reads one frame: work to queue (a chunk, a frame for the running thread to decode, or SHUTDOWN),
     * or null for a frame handled here. Decodes nothing that could need a class from the caller.
     */
    private Object readFrame() throws IOException {
        byte[] buffer;
        synchronized (roles) {
            buffer = spareBuffers.pollFirst();
        }
        // without a spare (frames queue up while a task runs), one of the frame's own size
        FrameChannel.Frame frame = FrameChannel.read(stdin, buffer);
        if (buffer != null && frame != null && frame.payload() != buffer) {
            recycle(buffer);
        }
        if (frame == null) {
            exitNow(WorkerExitCodes.PARENT_GONE); // no SHUTDOWN came first: the parent is gone
        }
        switch (frame.type()) {
            case FunctionMessage.TYPE -> {
                long scope = FunctionMessage.scope(frame);
                if (scope != RemoteCode.LOCAL_SCOPE) {
                    scopedFunctions.put(FunctionMessage.id(frame), scope);
                    return frame;
                }
                FunctionMessage message = FunctionMessage.read(readKryo, frame, remote::loader);
                functions.put(message.id(), new Function(message.function(), remote.loader(scope)));
            }
            case TasksMessage.TYPE -> {
                long functionId = TasksMessage.functionId(frame);
                if (scopedFunctions.containsKey(functionId)) {
                    return frame;
                }
                Function function = functions.get(functionId);
                if (function == null) {
                    protocolError("chunk for unknown function " + functionId);
                }
                TasksMessage tasks = TasksMessage.read(readKryo, frame, inputRing);
                recycle(frame.payload());
                return new Chunk(function, tasks.firstSequence(), tasks.inputs());
            }
            case ReleaseMessage.TYPE -> {
                long functionId = ReleaseMessage.read(frame);
                if (scopedFunctions.remove(functionId) != null) {
                    return frame; // its chunks may still wait in the queue
                }
                functions.remove(functionId);
            }
            case ShutdownMessage.TYPE -> {
                recycle(frame.payload());
                return Shutdown.INSTANCE;
            }
            case CodeMessage.CLASS_BYTES, CodeMessage.RESOURCE_BYTES -> remote.answered(frame);
            case SharedMessage.VALUE -> shared.answered(frame);
            case SharedMessage.RELEASE -> shared.released(frame);
            case HeartbeatMessage.PING -> {
                // held: a frame is being written, and the parent hears that; a PONG must not wait for it
                if (channelLock.tryLock()) {
                    try {
                        HeartbeatMessage.write(channel, HeartbeatMessage.PONG);
                        channel.flush();
                    } finally {
                        channelLock.unlock();
                    }
                }
            }
            default -> protocolError("unexpected frame type " + frame.type());
        }
        recycle(frame.payload());
        return null;
    }

    /** Gives a decoded frame's payload buffer back to the reader (small ones are not worth keeping). */
    private void recycle(byte[] payload) {
        if (payload.length >= SPARE_BUFFER_MIN && payload.length <= FrameChannel.KEPT_BUFFER_MAX) {
            synchronized (roles) {
                if (spareBuffers.size() < 3) {
                    spareBuffers.addLast(payload);
                }
            }
        }
    }

    /**
     * Decodes a queued frame of a scope other than 0 on the running thread: a FUNCTION or RELEASE is
     * taken in, a TASKS frame becomes the chunk to run (null for the others). The function and the
     * inputs are read with the loader that stands for the caller's class loader, which asks the caller
     * for what it lacks.
     */
    private Chunk decode(FrameChannel.Frame frame) throws IOException {
        if (runKryo == null) {
            runKryo = KryoSetup.newKryo(readKryo.getClassLoader());
        }
        try {
            switch (frame.type()) {
                case FunctionMessage.TYPE -> {
                    FunctionMessage message = FunctionMessage.read(runKryo, frame, remote::loader);
                    functions.put(message.id(), new Function(message.function(), remote.loader(message.scope())));
                }
                case ReleaseMessage.TYPE -> functions.remove(ReleaseMessage.read(frame));
                case TasksMessage.TYPE -> {
                    Function function = functions.get(TasksMessage.functionId(frame));
                    if (function == null) {
                        protocolError("chunk for unknown function " + TasksMessage.functionId(frame));
                    }
                    if (runKryo.getClassLoader() != function.loader) {
                        runKryo.setClassLoader(function.loader);
                    }
                    TasksMessage tasks = TasksMessage.read(runKryo, frame, inputRing);
                    return new Chunk(function, tasks.firstSequence(), tasks.inputs());
                }
                default -> protocolError("unexpected frame type " + frame.type());
            }
            return null;
        } finally {
            recycle(frame.payload());
        }
    }

    /** Runs queued work until the queue is empty, then hands the results to the parent. */
    private void runTasks() throws IOException {
        long lastHandOff = System.nanoTime();
        int clockEvery = 1;
        int untilClock = 1;
        while (true) {
            Object next;
            synchronized (roles) {
                next = work.pollFirst();
            }
            if (next == null) {
                handOffResults();
                return;
            }
            if (next == Shutdown.INSTANCE) {
                handOffResults();
                ProcessGroup.killOwnTree();
                System.exit(0);
            }
            Chunk chunk = next instanceof FrameChannel.Frame frame ? decode(frame) : (Chunk) next;
            if (chunk == null) {
                continue;
            }
            if (chunk.firstSequence != sequence) {
                protocolError("chunk starts at task " + chunk.firstSequence + ", expected " + sequence);
            }
            Thread self = Thread.currentThread();
            if (self.getContextClassLoader() != chunk.function.loader) { // what ServiceLoader & co. look in
                self.setContextClassLoader(chunk.function.loader);
            }
            Object function = chunk.function.function;
            for (Object input : chunk.inputs) {
                slot.set(sequence++);
                runOne(function, input);
                if (results.bytes() >= RESULT_FLUSH_BYTES) {
                    handOffResults();
                    lastHandOff = System.nanoTime();
                } else if (--untilClock == 0) {
                    long now = System.nanoTime();
                    if (now - lastHandOff >= RESULT_FLUSH_NANOS) {
                        handOffResults();
                        lastHandOff = now;
                        clockEvery = 1; // tasks this slow: look at the clock after each
                    } else if (clockEvery < CLOCK_EVERY_MAX) {
                        clockEvery <<= 1;
                    }
                    untilClock = clockEvery;
                }
            }
            if (results.count() >= RESULT_FLUSH_COUNT) {
                handOffResults();
                lastHandOff = System.nanoTime();
            }
        }
    }

    private void runOne(Object function, Object input) throws IOException {
        Object value;
        try {
            value = TaskInvoker.invoke(function, input);
        } catch (Throwable failure) {
            results.addFailure(failure);
            return;
        }
        results.addValue(writeKryo, value);
    }

    private void handOffResults() throws IOException {
        if (results.count() == 0) {
            return;
        }
        channelLock.lock(); // the stdin reader answers pings on it too, tasks send code requests
        try {
            results.write(channel);
            channel.flush();
        } finally {
            channelLock.unlock();
        }
    }

    private static void protocolError(String message) {
        System.err.println("procpool worker: protocol error: " + message);
        exitNow(WorkerExitCodes.PROTOCOL_ERROR);
    }

    /** Halts, taking the processes the tasks started along: nothing a task started outlives its worker. */
    private static void exitNow(int code) {
        try {
            ProcessGroup.killOwnTree();
        } finally {
            Runtime.getRuntime().halt(code);
        }
    }

    /** A function as the worker keeps it: with the loader its inputs are read with and its tasks run under. */
    private record Function(Object function, ClassLoader loader) {}

    private record Chunk(Function function, long firstSequence, Object[] inputs) {}

    private enum Shutdown { INSTANCE }
}
