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
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The {@code main} of a worker JVM: {@code WorkerMain <workerId> <slotFile>}.
 *
 * <p>fd 1 carries frames and nothing else: {@code System.out} is pointed at stderr before any user
 * code runs. A reader thread takes frames from stdin so that the parent's death (stdin EOF) is seen
 * while a task runs; the main thread runs tasks in the order they arrived and writes their results
 * in that order, so the parent needs no task ids on the way back.
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
    private final BlockingQueue<Object> work = new LinkedBlockingQueue<>();
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

        Thread reader = new Thread(() -> readFrames(stdin), "procpool-stdin");
        reader.setDaemon(true);
        reader.start();
        runTasks();
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

    private void readFrames(InputStream stdin) {
        try {
            while (true) {
                FrameChannel.Frame frame = FrameChannel.read(stdin);
                if (frame == null) {
                    Runtime.getRuntime().halt(EXIT_PARENT_GONE); // no SHUTDOWN came first: the parent is gone
                }
                Input in = new Input(frame.payload(), 0, frame.length());
                switch (frame.type()) {
                    case FrameType.FUNCTION -> readFunction(in);
                    case FrameType.TASKS -> work.put(readChunk(in));
                    case FrameType.RELEASE -> functions.remove(in.readLong());
                    case FrameType.SHUTDOWN -> {
                        work.put(Shutdown.INSTANCE);
                        return;
                    }
                    default -> protocolError("unexpected frame type " + frame.type());
                }
            }
        } catch (IOException | InterruptedException e) {
            protocolError("reading stdin failed: " + e);
        }
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

    private void runTasks() throws Exception {
        long lastHandOff = System.nanoTime();
        while (true) {
            Object next = work.poll();
            if (next == null) {
                handOffResults();
                next = work.take();
                lastHandOff = System.nanoTime();
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
