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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
 */
public final class WorkerMain {
    /** The argument that says the channel is on {@link #CHANNEL_IN_FD} and {@link #CHANNEL_OUT_FD}. */
    public static final String OWN_FDS = "own-fds";
    public static final int CHANNEL_IN_FD = 3;
    public static final int CHANNEL_OUT_FD = 4;
    /** Results are handed to the pipe at least this often while tasks keep coming. */
    private static final long RESULT_FLUSH_NANOS = 200_000;
    private static final int RESULT_FLUSH_BYTES = 64 * 1024;
    /** Lets the parent refill a worker that holds many small chunks before it runs dry. */
    private static final int RESULT_FLUSH_COUNT = 16;
    private static final long PARENT_POLL_MILLIS = 200;

    private final OutputStream channel;
    private final RunningTaskSlot slot;
    private final Kryo readKryo;
    private final Kryo writeKryo;
    /** Guards the roles and the queue: which thread reads stdin, which runs tasks. */
    private final Object roles = new Object();
    private final ArrayDeque<Object> work = new ArrayDeque<>();
    private boolean reading;
    private boolean running;
    private boolean shutdownRead;
    private InputStream stdin;
    /** Frames are read into this by whichever thread holds the reader role, and decoded before the next. */
    private byte[] frameBuffer = new byte[64 * 1024];
    private final Map<Long, Object> functions = new ConcurrentHashMap<>();
    private final ResultsMessage.Encoder results;
    private long sequence;

    private WorkerMain(OutputStream channel, RunningTaskSlot slot, ClassLoader loader) {
        this.channel = channel;
        this.results = new ResultsMessage.Encoder(channel, SharedSegments.get());
        this.slot = slot;
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
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        new WorkerMain(channel, slot, loader).run(stdin);
    }

    private void run(InputStream stdin) throws Exception {
        watchParent();
        FrameChannel.Frame config = FrameChannel.read(stdin);
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
        ReadyMessage.write(channel, ProcessHandle.current().pid(), Runtime.version().toString());
        channel.flush();

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

    /** Reads and decodes one frame: work to queue, or null for a frame handled here. */
    private Object readFrame() throws IOException {
        FrameChannel.Frame frame = FrameChannel.read(stdin, frameBuffer);
        if (frame == null) {
            exitNow(WorkerExitCodes.PARENT_GONE); // no SHUTDOWN came first: the parent is gone
        }
        frameBuffer = FrameChannel.keep(frame.payload(), frameBuffer);
        switch (frame.type()) {
            case FunctionMessage.TYPE -> {
                FunctionMessage message = FunctionMessage.read(readKryo, frame);
                functions.put(message.id(), message.function());
            }
            case TasksMessage.TYPE -> {
                return readChunk(TasksMessage.read(readKryo, frame));
            }
            case ReleaseMessage.TYPE -> functions.remove(ReleaseMessage.read(frame));
            case ShutdownMessage.TYPE -> {
                return Shutdown.INSTANCE;
            }
            case HeartbeatMessage.PING -> {
                synchronized (channel) {
                    HeartbeatMessage.write(channel, HeartbeatMessage.PONG);
                    channel.flush();
                }
            }
            default -> protocolError("unexpected frame type " + frame.type());
        }
        return null;
    }

    private Chunk readChunk(TasksMessage tasks) {
        Object function = functions.get(tasks.functionId());
        if (function == null) {
            protocolError("chunk for unknown function " + tasks.functionId());
        }
        return new Chunk(function, tasks.firstSequence(), tasks.inputs());
    }

    /** Runs queued work until the queue is empty, then hands the results to the parent. */
    private void runTasks() throws IOException {
        long lastHandOff = System.nanoTime();
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
            Chunk chunk = (Chunk) next;
            if (chunk.firstSequence != sequence) {
                protocolError("chunk starts at task " + chunk.firstSequence + ", expected " + sequence);
            }
            for (Object input : chunk.inputs) {
                slot.set(sequence++);
                runOne(chunk.function, input);
                long now = System.nanoTime();
                if (now - lastHandOff >= RESULT_FLUSH_NANOS || results.bytes() >= RESULT_FLUSH_BYTES
                        || results.count() >= RESULT_FLUSH_COUNT) {
                    handOffResults();
                    lastHandOff = now;
                }
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
        synchronized (channel) { // the stdin reader answers pings on it too
            results.write(channel);
            channel.flush();
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

    private record Chunk(Object function, long firstSequence, Object[] inputs) {}

    private enum Shutdown { INSTANCE }
}
