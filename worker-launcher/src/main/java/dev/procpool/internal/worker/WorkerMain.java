package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
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
 * The {@code main} of a worker JVM: {@code WorkerMain <workerId> <slotFile>}.
 *
 * <p>fd 1 carries frames and nothing else: {@code System.out} is pointed at stderr before any user
 * code runs. Two threads share the work (see {@link #serve()}): one always reads stdin, so that the
 * parent's death (stdin EOF) is seen while a task runs; tasks run one at a time in the order they
 * arrived and their results are written in that order, so the parent needs no task ids on the way
 * back.
 */
public final class WorkerMain {
    /** Exit codes a worker uses for its own reasons (tasks may use any other). */
    public static final int EXIT_PARENT_GONE = 70;
    public static final int EXIT_PROTOCOL_ERROR = 71;
    public static final int EXIT_INIT_FAILED = 72;

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
    private final Output results = new Output(64 * 1024, -1);
    private int resultCount;
    private long sequence;

    private WorkerMain(OutputStream channel, RunningTaskSlot slot, ClassLoader loader) {
        this.channel = channel;
        this.slot = slot;
        this.readKryo = KryoSetup.newKryo(loader);
        this.writeKryo = KryoSetup.newKryo(loader);
    }

    public static void main(String[] args) throws Exception {
        OutputStream channel = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 64 * 1024);
        PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
        System.setOut(stderr);
        System.setErr(stderr);
        InputStream stdin = new BufferedInputStream(new FileInputStream(FileDescriptor.in), 64 * 1024);
        System.setIn(new ByteArrayInputStream(new byte[0]));
        if (args.length != 2) {
            stderr.println("usage: WorkerMain <workerId> <slotFile>");
            Runtime.getRuntime().halt(EXIT_PROTOCOL_ERROR);
        }
        Thread.currentThread().setName("procpool-worker-" + args[0]);
        RunningTaskSlot slot = RunningTaskSlot.map(Path.of(args[1]));
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        new WorkerMain(channel, slot, loader).run(stdin);
    }

    private void run(InputStream stdin) throws Exception {
        watchParent();
        FrameChannel.Frame config = FrameChannel.read(stdin);
        if (config == null || config.type() != FrameType.CONFIG) {
            protocolError("expected a CONFIG frame first");
        }
        Input in = new Input(config.payload(), 0, config.length());
        try {
            Object initializer = readKryo.readClassAndObject(in);
            if (initializer != null) {
                ((Runnable) initializer).run();
            }
        } catch (Throwable failure) {
            Output out = new Output(1024, -1);
            RemoteFailure.write(out, failure);
            send(FrameType.INIT_FAILED, out);
            channel.flush();
            Runtime.getRuntime().halt(EXIT_INIT_FAILED);
        }
        Output ready = new Output(64);
        ready.writeLong(ProcessHandle.current().pid());
        ready.writeString(Runtime.version().toString());
        send(FrameType.READY, ready);
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
                    Runtime.getRuntime().halt(EXIT_PARENT_GONE);
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
            Runtime.getRuntime().halt(EXIT_PARENT_GONE); // no SHUTDOWN came first: the parent is gone
        }
        frameBuffer = FrameChannel.keep(frame.payload(), frameBuffer);
        Input in = new Input(frame.payload(), 0, frame.length());
        switch (frame.type()) {
            case FrameType.FUNCTION -> readFunction(in);
            case FrameType.TASKS -> {
                return readChunk(in);
            }
            case FrameType.RELEASE -> functions.remove(in.readLong());
            case FrameType.SHUTDOWN -> {
                return Shutdown.INSTANCE;
            }
            default -> protocolError("unexpected frame type " + frame.type());
        }
        return null;
    }

    private void readFunction(Input in) {
        long id = in.readLong();
        Object function;
        try {
            function = Elements.read(readKryo, in);
        } catch (Throwable failure) {
            function = new UnreadableFunction(failure);
        }
        functions.put(id, function);
    }

    private Chunk readChunk(Input in) {
        long functionId = in.readLong();
        long firstSequence = in.readLong();
        int count = in.readVarInt(true);
        Object function = functions.get(functionId);
        if (function == null) {
            protocolError("chunk for unknown function " + functionId);
        }
        Object[] inputs = new Object[count];
        for (int i = 0; i < count; i++) {
            try {
                inputs[i] = Elements.read(readKryo, in);
            } catch (Throwable failure) {
                inputs[i] = new UnreadableInput(failure);
            }
        }
        return new Chunk(function, firstSequence, inputs);
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
                channel.flush();
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
                if (now - lastHandOff >= RESULT_FLUSH_NANOS || results.position() >= RESULT_FLUSH_BYTES
                        || resultCount >= RESULT_FLUSH_COUNT) {
                    handOffResults();
                    lastHandOff = now;
                }
            }
        }
    }

    private void runOne(Object function, Object input) {
        Object value;
        try {
            value = invoke(function, input);
        } catch (Throwable failure) {
            writeFailure(failure);
            return;
        }
        int mark = results.position();
        try {
            results.writeByte(0);
            Elements.write(writeKryo, results, value);
        } catch (Throwable notSerializable) {
            results.setPosition(mark);
            writeFailure(new IllegalArgumentException("the task's result cannot be serialized: " + notSerializable,
                    notSerializable));
            return;
        }
        resultCount++;
    }

    private void writeFailure(Throwable failure) {
        results.writeByte(1);
        RemoteFailure.write(results, failure);
        resultCount++;
    }

    private static Object invoke(Object function, Object input) throws Throwable {
        if (function instanceof UnreadableFunction unreadable) {
            throw new IllegalStateException("the worker could not read the function: " + unreadable.failure,
                    unreadable.failure);
        }
        if (input instanceof UnreadableInput unreadable) {
            throw new IllegalStateException("the worker could not read this input: " + unreadable.failure,
                    unreadable.failure);
        }
        return TaskInvoker.invoke(function, input);
    }

    private void handOffResults() throws IOException {
        if (resultCount == 0) {
            return;
        }
        Output count = new Output(5);
        count.writeVarInt(resultCount, true);
        FrameChannel.write(channel, FrameType.RESULTS, count.getBuffer(), count.position(), results.getBuffer(),
                results.position());
        channel.flush();
        results.reset();
        resultCount = 0;
    }

    private void send(byte type, Output payload) throws IOException {
        FrameChannel.write(channel, type, payload.getBuffer(), payload.position());
    }

    private static void protocolError(String message) {
        System.err.println("procpool worker: protocol error: " + message);
        Runtime.getRuntime().halt(EXIT_PROTOCOL_ERROR);
    }

    private record Chunk(Object function, long firstSequence, Object[] inputs) {}

    private record UnreadableFunction(Throwable failure) {}

    private record UnreadableInput(Throwable failure) {}

    private enum Shutdown { INSTANCE }
}
