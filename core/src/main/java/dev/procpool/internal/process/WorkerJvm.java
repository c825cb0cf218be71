package dev.procpool.internal.process;

import dev.procpool.internal.worker.ProcessGroup;
import dev.procpool.internal.worker.RunningTaskSlot;
import dev.procpool.internal.worker.WorkerRings;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteResultHandler;
import org.apache.commons.exec.ExecuteStreamHandler;
import org.apache.commons.exec.ProcessDestroyer;
import org.apache.commons.exec.StreamPumper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's operating-system process: launched through commons-exec, its two frame pipes, its
 * stderr drained into the log (a full stderr pipe would block the worker, and the pool with it), its
 * exit code, and the slot file through which it shows the running task. Knows nothing of tasks.
 */
final class WorkerJvm {
    private static final Logger log = LoggerFactory.getLogger(WorkerJvm.class);
    /** How long the end of a worker may take to show, at each step of waiting for it. */
    static final long EXIT_WAIT_MILLIS = 3_000;

    /** What the worker hears from its process, on commons-exec's threads. */
    interface Events {
        /** The process exists; its pipes may not be open yet. */
        void processStarted();

        /** The pipes are open: the first frame may go out and the reader may start. */
        void pipesOpen();

        /**
         * The process has exited (commons-exec learned it from the process, not from the pipes), and
         * commons-exec closes our ends of the pipes when this returns.
         */
        void exited();

        void launchFailed(Exception e);
    }

    /** "worker-3" or "spare-7": for thread names and log lines. */
    private final String name;
    private final int id;
    private final WorkerSettings settings;
    private final List<String> extraOptions;
    private final Path slotFile;
    private final RunningTaskSlot slot;
    /** Medium values both ways, in the slot file after the slot; null when the caller asked for none. */
    private final WorkerRings rings;
    private final StderrTail stderr;
    private final CompletableFuture<Process> process = new CompletableFuture<>();
    private final long startedNanos = System.nanoTime();
    private volatile OutputStream stdin;
    private volatile InputStream stdout;
    private volatile InputStream stderrStream;
    private volatile Thread stderrPump;

    /**
     * @param name what threads and log lines call it ("worker-3", "spare-7")
     * @param id   the number the worker JVM is started with (its thread names)
     */
    WorkerJvm(String name, int id, WorkerSettings settings, List<String> extraOptions, Path slotDirectory)
            throws IOException {
        this.name = name;
        this.id = id;
        this.settings = settings;
        this.extraOptions = extraOptions;
        this.slotFile = createSlotFile(slotDirectory);
        this.slot = RunningTaskSlot.create(slotFile);
        this.rings = createRings(slotFile);
        this.stderr = new StderrTail(name);
    }

    /**
     * A new, empty, owner-only file {@code procpool-<our pid>-<random>.slot}, created exclusively (an
     * existing name, or a link planted under it, is never opened). Not {@code Files.createTempFile}: its
     * {@code SecureRandom} loads the security providers, ~20 ms of a cold caller's {@code build()} before
     * the first worker can start; the name needs to be unique, not secret.
     */
    static Path createSlotFile(Path directory) throws IOException {
        String prefix = "procpool-" + ProcessHandle.current().pid() + "-";
        for (int attempt = 0; ; attempt++) {
            Path file = directory.resolve(prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".slot");
            try {
                return OWNER_ONLY == null ? Files.createFile(file) : Files.createFile(file, OWNER_ONLY);
            } catch (FileAlreadyExistsException taken) {
                if (attempt >= 100) {
                    throw taken;
                }
            }
        }
    }

    /** rw------- where the file system has POSIX permissions. */
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                    ? PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")) : null;

    /** Starts the JVM and returns at once; everything after arrives through {@code events}. */
    void launch(Events events) {
        DefaultExecutor executor = DefaultExecutor.builder()
                .setThreadFactory(r -> daemon(r, "procpool-" + name + "-exec"))
                .setWorkingDirectory(settings.workingDirectory() == null ? null : settings.workingDirectory().toFile())
                .get();
        executor.setExitValues(null);
        executor.setStreamHandler(new Streams(events));
        executor.setProcessDestroyer(new Destroyer(events));
        try {
            org.apache.commons.exec.CommandLine command = WorkerCommand.build(settings, extraOptions, id, slotFile);
            if (log.isDebugEnabled()) {
                log.debug("{}: starting {}", name, String.join(" ", WorkerCommand.describe(command)));
            }
            executor.execute(command, environment(), new ResultHandler(events));
        } catch (IOException e) {
            events.launchFailed(e);
        }
    }

    private Map<String, String> environment() {
        if (settings.environment().isEmpty()) {
            return null;
        }
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(settings.environment());
        return env;
    }

    OutputStream stdin() {
        return stdin;
    }

    InputStream stdout() {
        return stdout;
    }

    RunningTaskSlot slot() {
        return slot;
    }

    private static WorkerRings createRings(Path slotFile) throws IOException {
        try {
            return WorkerRings.create(slotFile, WorkerRings.configuredCapacity());
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(slotFile);
            throw e;
        }
    }

    /** The worker's rings, or null. */
    WorkerRings rings() {
        return rings;
    }

    StderrTail stderr() {
        return stderr;
    }

    List<String> lastStderrLines() {
        return stderr.lastLines();
    }

    /** The process id, or -1 before the process exists. */
    long pid() {
        Process p = process.getNow(null);
        return p == null ? -1 : p.pid();
    }

    long startedNanos() {
        return startedNanos;
    }

    long uptimeNanos() {
        return System.nanoTime() - startedNanos;
    }

    /**
     * Sends SIGKILL to the worker and to every process its tasks started. Only the signals:
     * {@code Process.destroyForcibly()} would also close our ends of the pipes and lose what the worker
     * last wrote to stderr.
     */
    void kill() {
        Process p = process.getNow(null);
        if (p == null) {
            return;
        }
        // taken first: a child that left the worker's group is found only while the worker is its ancestor
        List<ProcessHandle> descendants = p.toHandle().descendants().toList();
        p.toHandle().destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        killLeftovers();
    }

    /**
     * Kills what the worker's tasks started and left in its process group, orphans included. Safe after
     * the worker's exit: the group keeps its id, which no new process can take, while it has members.
     */
    void killLeftovers() {
        Process p = process.getNow(null);
        if (p != null && WorkerCommand.workersLeadTheirGroup()) {
            int killed = ProcessGroup.killMembers(p.pid(), ProcessHandle.current().pid());
            if (killed > 0) {
                log.debug("{}: killed {} process(es) its tasks left behind", name, killed);
            }
        }
    }

    /** The process once launched, or null if it was not launched by the deadline. */
    Process awaitLaunch(long deadlineNanos) throws InterruptedException {
        try {
            return process.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }

    /**
     * The exit code, once the channel has ended: -1 when unknown. A JVM that lingers after its channel
     * closed (it closed fd 1, say) cannot serve anyway and is killed.
     */
    int awaitExitCode() {
        try {
            Process p = process.get(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            if (!p.waitFor(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                kill();
                p.waitFor(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            }
            killLeftovers();
            return p.isAlive() ? -1 : p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (ExecutionException | TimeoutException e) {
            return -1;
        }
    }

    /** Waits (a bounded while) for stderr to be read to its end: a crash report wants its last lines. */
    void awaitStderrDrained() {
        Thread pump = stderrPump;
        if (pump != null) {
            try {
                pump.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Both sides have the slot mapped once the worker is ready: deleting it early leaves nothing behind if the parent dies. */
    void deleteSlotFile() {
        try {
            Files.deleteIfExists(slotFile);
        } catch (IOException e) {
            log.debug("could not delete {}: {}", slotFile, e.toString());
        }
    }

    /** tmpfs where there is one: the slot is shared memory and should never touch a disk. */
    static Path slotDirectory() {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            return shm;
        }
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    /** Takes the worker's three pipes: stdin and stdout carry frames, stderr goes through a pumper. */
    private final class Streams implements ExecuteStreamHandler {
        private final Events events;

        Streams(Events events) {
            this.events = events;
        }

        @Override
        public void setProcessInputStream(OutputStream os) {
            stdin = new BufferedOutputStream(os, 64 * 1024);
        }

        @Override
        public void setProcessOutputStream(InputStream is) {
            stdout = new BufferedInputStream(is, 64 * 1024);
        }

        @Override
        public void setProcessErrorStream(InputStream is) {
            stderrStream = is;
        }

        @Override
        public void start() {
            Thread pump = daemon(new StreamPumper(stderrStream, stderr, true), "procpool-" + name + "-stderr");
            stderrPump = pump;
            pump.start();
            events.pipesOpen();
        }

        @Override
        public void stop() {
            events.exited();
        }
    }

    /** commons-exec hands the launched {@link Process} to its destroyer: that is where we take it. */
    private final class Destroyer implements ProcessDestroyer {
        private final Events events;

        Destroyer(Events events) {
            this.events = events;
        }

        @Override
        public boolean add(Process p) {
            process.complete(p);
            events.processStarted();
            return true;
        }

        @Override
        public boolean remove(Process p) {
            return true;
        }

        @Override
        public int size() {
            return process.isDone() ? 1 : 0;
        }
    }

    private final class ResultHandler implements ExecuteResultHandler {
        private final Events events;

        ResultHandler(Events events) {
            this.events = events;
        }

        @Override
        public void onProcessComplete(int exitValue) {}

        @Override
        public void onProcessFailed(ExecuteException e) {
            if (!process.isDone()) {
                events.launchFailed(e.getCause() instanceof Exception cause ? cause : e);
            }
        }
    }
}
