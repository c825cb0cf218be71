package dev.procpool.internal.process;

import dev.procpool.ProcessPoolException;
import dev.procpool.TaskTimeoutException;
import dev.procpool.WorkerCrashedException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.FunctionCache;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.Scheduler;

import com.esotericsoftware.kryo.kryo5.Kryo;
import dev.procpool.internal.engine.TaskFailures;
import dev.procpool.internal.worker.ConfigMessage;
import dev.procpool.internal.worker.FunctionMessage;
import dev.procpool.internal.worker.InitFailedMessage;
import dev.procpool.internal.worker.ReadyMessage;
import dev.procpool.internal.worker.ReleaseMessage;
import dev.procpool.internal.worker.ResultsMessage;
import dev.procpool.internal.worker.ShutdownMessage;
import dev.procpool.internal.worker.TasksMessage;
import dev.procpool.internal.worker.WorkerExitCodes;
import dev.procpool.internal.worker.FrameChannel;
import dev.procpool.internal.worker.KryoSetup;
import dev.procpool.internal.worker.RemoteFailure;
import dev.procpool.internal.worker.RunningTaskSlot;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.List;
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
 * One worker JVM as the parent sees it: its channel, the chunks it holds, and what happens when it
 * dies. Three threads serve it: the sender pulls chunks from the scheduler while the worker has room,
 * the reader takes results in order and, at the end of the channel, settles the worker's fate, and a
 * commons-exec pumper drains stderr into the log.
 *
 * <p>The worker runs tasks strictly in the order sent and answers in that order, numbering each task
 * with a per-worker sequence number; so results carry no ids and the {@link RunningTaskSlot} tells
 * which task was running when the worker died.
 */
public final class WorkerProcess {
    private static final Logger log = LoggerFactory.getLogger(WorkerProcess.class);
    /** Chunks sent but not answered; two keep the pipe busy while the worker computes. */
    static final int MAX_CHUNKS_IN_FLIGHT = 2;
    /**
     * When tasks take less than this each, a pipe round trip costs more than a chunk of them: the
     * worker may then hold more small chunks, so it never waits for the parent between them.
     */
    private static final long FAST_TASK_NANOS = 50_000;
    private static final int FAST_MAX_CHUNKS = 32;
    private static final int FAST_MAX_TASKS = 64;
    private static final long EXIT_WAIT_MILLIS = 3_000;

    enum State { STARTING, READY, STOPPING, DEAD }

    /** What the pool learns from a worker's end. */
    /**
     * What the pool learns from a worker's end. {@code crashed}: it died unexpectedly (not asked to stop,
     * not killed to cancel a task); {@code recycled}: it exited after its task budget.
     */
    record Exit(WorkerProcess worker, boolean wasReady, boolean crashed, boolean recycled, int exitCode, String reason,
            List<String> lastStderrLines) {}

    interface Listener {
        /** True once the pool stops taking work: a worker starting now is killed at once. */
        boolean isStopping();

        /** True when some worker other than {@code worker} is starting or idle. */
        boolean anotherWorkerNeedsWork(WorkerProcess worker);

        void onReady(WorkerProcess worker);

        void onInitializerFailed(WorkerProcess worker, RemoteFailure failure);

        void onExit(Exit exit);
    }

    private record InFlight(Chunk chunk, long firstSequence, int[] answered) {}

    final int id;
    private final WorkerSettings settings;
    private final List<String> extraOptions;
    private final Scheduler scheduler;
    private final Listener listener;
    private final Path slotFile;
    private final RunningTaskSlot slot;
    private final StderrTail stderr;
    private final CompletableFuture<Process> process = new CompletableFuture<>();
    private final long startedNanos = System.nanoTime();
    private volatile long pid = -1;
    private volatile OutputStream stdin;
    private volatile InputStream stdout;
    private volatile InputStream stderrStream;
    private volatile Thread reader;
    private volatile Thread sender;
    private volatile Thread stderrPump;

    /** Starting, or ready with nothing to do: read without locks by the other workers' dispatch. */
    private volatile boolean needsWork = true;

    // Guarded by this.
    private State state = State.STARTING;
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private int tasksInFlight;
    /** Time per task while busy, smoothed; starts slow so that nothing piles up before it is known. */
    private double nanosPerTask = Double.MAX_VALUE;
    private long lastCompletionNanos;
    private boolean busyAtLastCompletion;
    private long tasksSent;
    private long timedOutSequence = -1;
    private boolean shutdownRequested;
    private boolean killedToCancel;

    // Guarded by sendLock: whoever holds it writes to the worker's stdin.
    private final ReentrantLock sendLock = new ReentrantLock();
    private long nextSequence;
    private final Map<Long, FunctionCache.SentFunction> functionsSent = new HashMap<>();
    /** Made on first send: a cold Kryo costs ~100 ms, better spent while the worker JVM boots. */
    private Kryo sendKryo;
    private final TasksMessage.Encoder tasks = new TasksMessage.Encoder();

    // Confined to the reader thread: the frame being decoded (results never alias it), one run of answers.
    private byte[] frameBuffer = new byte[64 * 1024];
    private final ResultsMessage.Decoder results = new ResultsMessage.Decoder();
    private Object[] answerValues = new Object[64];
    private ProcessPoolException[] answerFailures = new ProcessPoolException[64];

    // Confined to the timeout watch.
    private long watchedSequence = RunningTaskSlot.NONE;
    private long watchedSinceNanos;

    WorkerProcess(int id, WorkerSettings settings, List<String> extraOptions, Scheduler scheduler, Listener listener,
            Path slotDirectory) throws IOException {
        this.id = id;
        this.extraOptions = extraOptions;
        this.settings = settings;
        this.scheduler = scheduler;
        this.listener = listener;
        this.slotFile = Files.createTempFile(slotDirectory, "procpool-" + ProcessHandle.current().pid() + "-", ".slot");
        this.slot = RunningTaskSlot.create(slotFile);
        this.stderr = new StderrTail("worker-" + id);
    }

    long pid() {
        if (pid < 0) {
            Process p = process.getNow(null);
            return p == null ? -1 : p.pid();
        }
        return pid;
    }

    long uptimeNanos() {
        return System.nanoTime() - startedNanos;
    }

    synchronized State state() {
        return state;
    }

    /** Starts the JVM; returns at once. Failures to launch arrive through {@link Listener#onExit}. */
    void launch() {
        DefaultExecutor executor = DefaultExecutor.builder()
                .setThreadFactory(r -> daemon(r, "procpool-worker-" + id + "-exec"))
                .setWorkingDirectory(settings.workingDirectory() == null ? null : settings.workingDirectory().toFile())
                .get();
        executor.setExitValues(null);
        executor.setStreamHandler(new Streams());
        executor.setProcessDestroyer(new Destroyer());
        try {
            executor.execute(WorkerCommand.build(settings, extraOptions, id, slotFile), environment(), new ResultHandler());
        } catch (IOException e) {
            launchFailed(e);
        }
    }

    private java.util.Map<String, String> environment() {
        if (settings.environment().isEmpty()) {
            return null;
        }
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.putAll(settings.environment());
        return env;
    }

    private void launchFailed(Exception e) {
        synchronized (this) {
            if (state == State.DEAD) {
                return;
            }
            state = State.DEAD;
            updateNeedsWork();
        }
        deleteSlotFile();
        listener.onExit(new Exit(this, false, true, false, -1,
                "could not launch " + settings.javaExecutable() + ": " + e, List.of()));
    }

    /** Sends SIGKILL; the reader then finds the end of the channel and settles the in-flight tasks. */
    void kill() {
        Process p = process.getNow(null);
        if (p != null) {
            p.toHandle().destroyForcibly();
        }
    }

    /** Kills the worker because the pool is terminating: not a crash. */
    void killForTermination() {
        synchronized (this) {
            shutdownRequested = true;
        }
        kill();
    }

    /** Kills the worker if the task it is running belongs to {@code job} (the job was cancelled with interrupt). */
    void killIfRunning(Job job) {
        long running = slot.get();
        synchronized (this) {
            if (state != State.READY) {
                return;
            }
            boolean found = false;
            for (InFlight f : inFlight) {
                long position = running - f.firstSequence;
                if (position >= f.answered[0] && position < f.chunk.size()) {
                    found = f.chunk.job() == job;
                    break;
                }
            }
            if (!found) {
                return;
            }
            killedToCancel = true;
        }
        log.info("worker-{} (pid {}): killing it to cancel its running task", id, pid);
        kill();
    }

    /** Asks the worker to exit once its in-flight work is answered and the scheduler closed. */
    void requestStop() {
        synchronized (this) {
            shutdownRequested = true;
            if (state == State.STARTING) {
                kill();
            }
            notifyAll();
        }
    }

    /** Waits for the worker's process to end, up to the deadline. */
    boolean awaitExit(long deadlineNanos) throws InterruptedException {
        Thread r = reader;
        long left = deadlineNanos - System.nanoTime();
        try {
            Process p = process.get(Math.max(0, left), TimeUnit.NANOSECONDS);
            left = deadlineNanos - System.nanoTime();
            if (!p.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                return false;
            }
        } catch (ExecutionException | TimeoutException e) {
            return state() == State.DEAD;
        }
        if (r != null && r != Thread.currentThread()) { // the reader may be the one stopping the pool
            r.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
            return !r.isAlive();
        }
        return true;
    }

    synchronized boolean isStartingLongerThan(long nowNanos, Duration limit) {
        return state == State.STARTING && !shutdownRequested && nowNanos - startedNanos > limit.toNanos();
    }

    /**
     * Called by the timeout watch: kills the worker when one task has been running longer than the
     * limit. The running task is read from the shared slot; the clock starts when the watch first
     * sees it, so a task gets at least its full time.
     */
    void checkTimeout(long nowNanos, Duration timeout) {
        long running = slot.get();
        synchronized (this) {
            if (state != State.READY || !isUnanswered(running)) {
                watchedSequence = RunningTaskSlot.NONE;
                return;
            }
            if (running != watchedSequence) {
                watchedSequence = running;
                watchedSinceNanos = nowNanos;
                return;
            }
            if (nowNanos - watchedSinceNanos < timeout.toNanos() || timedOutSequence == running) {
                return;
            }
            timedOutSequence = running;
        }
        log.warn("worker-{} (pid {}): task ran past the {} time limit, killing the worker", id, pid, timeout);
        kill();
    }

    private boolean isUnanswered(long sequence) {
        InFlight head = inFlight.peekFirst();
        return head != null && sequence >= head.firstSequence + head.answered[0];
    }

    // ---------------------------------------------------------------- reader side

    private void readLoop() {
        String corruption = null;
        try {
            Kryo kryo = KryoSetup.newKryo(WorkerProcess.class.getClassLoader());
            if (awaitReady(kryo)) {
                while (true) {
                    FrameChannel.Frame frame = FrameChannel.read(stdout, frameBuffer);
                    if (frame == null) {
                        break;
                    }
                    frameBuffer = FrameChannel.keep(frame.payload(), frameBuffer);
                    if (frame.type() != ResultsMessage.TYPE) {
                        throw new FrameChannel.CorruptFrameException("unexpected frame type " + frame.type());
                    }
                    readResults(kryo, frame);
                }
            }
        } catch (FrameChannel.CorruptFrameException e) {
            corruption = "corrupt channel: " + e.getMessage();
        } catch (IOException e) {
            corruption = "channel failed: " + e;
        } catch (RuntimeException | Error e) {
            corruption = "channel failed: " + e;
            log.error("worker-{}: unexpected failure reading the channel", id, e);
        }
        settle(corruption);
    }

    private boolean awaitReady(Kryo kryo) throws IOException {
        FrameChannel.Frame frame = FrameChannel.read(stdout);
        if (frame == null) {
            return false;
        }
        if (frame.type() == InitFailedMessage.TYPE) {
            listener.onInitializerFailed(this,
                    InitFailedMessage.read(frame, settings.initializer().getClass().getClassLoader()));
            return false;
        }
        if (frame.type() != ReadyMessage.TYPE) {
            throw new FrameChannel.CorruptFrameException("expected READY, got frame type " + frame.type());
        }
        ReadyMessage ready = ReadyMessage.read(frame);
        pid = ready.pid();
        String javaVersion = ready.javaVersion();
        deleteSlotFile(); // both sides have it mapped; nothing is left behind if the parent dies
        log.debug("worker-{} ready: pid {}, Java {}, {} ms", id, pid, javaVersion,
                TimeUnit.NANOSECONDS.toMillis(uptimeNanos()));
        listener.onReady(this); // counted before anyone can see it ready
        synchronized (this) {
            if (state != State.STARTING) {
                return true;
            }
            state = State.READY;
            updateNeedsWork();
        }
        Thread s = daemon(this::sendLoop, "procpool-worker-" + id + "-send");
        sender = s;
        s.start();
        return true;
    }

    /**
     * Takes one RESULTS frame: the answers to the oldest unanswered tasks, in order. Each run of answers
     * that belongs to one chunk is decoded first, then handed to its job at once.
     */
    private void readResults(Kryo kryo, FrameChannel.Frame frame) throws IOException {
        ResultsMessage.Decoder in = results;
        int count = in.begin(frame);
        boolean roomMade = false;
        while (count > 0) {
            InFlight head;
            synchronized (this) {
                head = inFlight.peekFirst();
            }
            if (head == null) {
                throw new FrameChannel.CorruptFrameException("a result arrived for no task");
            }
            Chunk chunk = head.chunk;
            Job job = chunk.job();
            int from = head.answered[0];
            int run = Math.min(count, chunk.size() - from);
            if (answerValues.length < run) {
                answerValues = new Object[Math.max(run, 2 * answerValues.length)];
                answerFailures = new ProcessPoolException[answerValues.length];
            }
            if (kryo.getClassLoader() != job.classLoader) {
                kryo.setClassLoader(job.classLoader);
            }
            for (int k = 0; k < run; k++) {
                long index = chunk.indices()[from + k];
                answerValues[k] = null;
                answerFailures[k] = null;
                if (in.status() == ResultsMessage.VALUE) {
                    readValue(kryo, in, job, index, k);
                } else {
                    answerFailures[k] = TaskFailures.remote(index, in.failure(job.classLoader));
                }
            }
            if (!job.isFinished()) {
                job.answered(chunk, from, answerValues, answerFailures, run);
            }
            Arrays.fill(answerValues, 0, run, null); // the caller owns the results now
            Arrays.fill(answerFailures, 0, run, null);
            count -= run;
            synchronized (this) {
                tasksInFlight -= run;
                head.answered[0] += run;
                if (head.answered[0] == chunk.size()) {
                    inFlight.removeFirst();
                    updateNeedsWork();
                    learnTaskTime(chunk.size());
                    roomMade = true;
                    notifyAll();
                }
            }
        }
        if (roomMade) {
            fill(false);
        }
    }

    /** Guarded by this: the time between completions while the worker had more to do is its pace. */
    private void learnTaskTime(int tasks) {
        long now = System.nanoTime();
        if (busyAtLastCompletion) {
            double sample = (double) (now - lastCompletionNanos) / tasks;
            nanosPerTask = nanosPerTask == Double.MAX_VALUE ? sample : 0.7 * nanosPerTask + 0.3 * sample;
        }
        lastCompletionNanos = now;
        busyAtLastCompletion = !inFlight.isEmpty();
    }

    /** Decodes one result into slot {@code k} of the answer buffers; one that cannot be rebuilt fails alone. */
    private void readValue(Kryo kryo, ResultsMessage.Decoder in, Job job, long index, int k) {
        if (job.isFinished()) {
            in.skipValue(kryo);
            return;
        }
        try {
            answerValues[k] = in.value(kryo);
        } catch (RuntimeException | LinkageError e) {
            answerFailures[k] = new ProcessPoolException("the result for input " + index
                    + " cannot be rebuilt in the caller's JVM: " + Job.describe(e), e, index);
        }
    }

    /** The channel ended: wait for the process, then fail, retry or re-queue what it held. */
    private void settle(String corruption) {
        if (corruption != null) {
            kill();
        }
        int exitCode = awaitExitCode();
        Thread pump = stderrPump;
        if (pump != null) {
            try {
                pump.join(1_000); // the crash report wants the last stderr lines
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<InFlight> held;
        long timedOut;
        boolean wasReady;
        boolean expected;
        boolean recycled;
        boolean cancelKill;
        synchronized (this) {
            cancelKill = killedToCancel;
            wasReady = state != State.STARTING;
            recycled = !shutdownRequested && state == State.STOPPING && inFlight.isEmpty() && corruption == null;
            expected = shutdownRequested || recycled || killedToCancel;
            state = State.DEAD;
            held = new ArrayList<>(inFlight);
            inFlight.clear();
            updateNeedsWork();
            timedOut = timedOutSequence;
            notifyAll();
        }
        Thread s = sender;
        if (s != null) {
            s.interrupt();
        }
        deleteSlotFile();
        String reason = describeExit(exitCode, corruption, timedOut >= 0);
        if (!expected) {
            log.warn("worker-{} (pid {}) died: {}{}", id, pid(), reason, stderrSuffix());
        } else {
            log.debug("worker-{} (pid {}) exited: {}", id, pid(), reason);
        }
        settleTasks(held, exitCode, reason, timedOut, cancelKill);
        listener.onExit(new Exit(this, wasReady, !expected, recycled, exitCode, reason, stderr.lastLines()));
    }

    private int awaitExitCode() {
        try {
            Process p = process.get(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            if (!p.waitFor(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                // The channel closed but the JVM lingers (e.g. it closed fd 1): it cannot serve anyway.
                p.toHandle().destroyForcibly();
                p.waitFor(EXIT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            }
            return p.isAlive() ? -1 : p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (ExecutionException | TimeoutException e) {
            return -1;
        }
    }

    /**
     * Decides the fate of every task the dead worker held without an answer. The one running at the
     * death (from the slot) timed out, or crashed the worker (retried or failed), unless the pool killed
     * the worker for another reason (a cancel, or a timeout that ended just before the kill): then it
     * runs again like the others, which never started or lost only their unsent results.
     */
    private void settleTasks(List<InFlight> held, int exitCode, String reason, long timedOut, boolean killedToCancel) {
        if (held.isEmpty()) {
            return;
        }
        long running = slot.get();
        boolean diedInATask = false;
        for (InFlight f : held) {
            long position = running - f.firstSequence;
            diedInATask |= position >= f.answered[0] && position < f.chunk.size();
        }
        boolean killedByThePool = killedToCancel || timedOut >= 0;
        // Died between tasks (e.g. reading an input that exhausts memory): blame the next one, so that a
        // poison input cannot kill worker after worker forever.
        boolean blameNext = !diedInATask && !killedByThePool;
        List<Long> retried = new ArrayList<>();
        for (InFlight f : held) {
            Chunk chunk = f.chunk;
            Job job = chunk.job();
            List<Integer> keep = new ArrayList<>();
            for (int position = f.answered[0]; position < chunk.size(); position++) {
                long sequence = f.firstSequence + position;
                long index = chunk.indices()[position];
                boolean culprit = sequence == running || blameNext;
                blameNext = false;
                if (job.isFinished()) {
                    continue;
                }
                if (culprit && sequence == timedOut) {
                    job.failed(index, new TaskTimeoutException(index, settings.taskTimeout()));
                } else if (!culprit || killedByThePool) {
                    keep.add(position);
                } else if (job.recordCrash(index) <= settings.retries()) {
                    job.counters.retried.incrementAndGet();
                    keep.add(position);
                    retried.add(index);
                } else {
                    job.failed(index, new WorkerCrashedException(index, "worker-" + id + " (pid " + pid()
                            + ") died while running the task for input " + index + ": " + reason + stderrSuffix(),
                            exitCode, stderr.lastLines()));
                }
            }
            if (!keep.isEmpty()) {
                long[] indices = new long[keep.size()];
                Object[] inputs = new Object[keep.size()];
                for (int i = 0; i < keep.size(); i++) {
                    indices[i] = chunk.indices()[keep.get(i)];
                    inputs[i] = chunk.inputs()[keep.get(i)];
                }
                scheduler.requeue(new Chunk(job, indices, inputs));
            }
        }
        if (!retried.isEmpty()) {
            log.info("worker-{}: retrying the task(s) for input(s) {} after the crash", id, retried);
        }
    }

    private String stderrSuffix() {
        List<String> lines = stderr.lastLines();
        return lines.isEmpty() ? "" : "; last stderr lines:\n  " + String.join("\n  ", lines);
    }

    static String describeExit(int exitCode, String corruption, boolean timedOut) {
        StringBuilder text = new StringBuilder();
        if (corruption != null) {
            text.append(corruption).append("; ");
        }
        if (timedOut) {
            text.append("killed after the task timeout; ");
        }
        if (exitCode < 0) {
            text.append("exit code unknown");
        } else {
            text.append("exit code ").append(exitCode);
            String workerReason = WorkerExitCodes.meaning(exitCode);
            if (workerReason != null) { // a task may exit with the same code: say whose code it is
                text.append(" (a worker's own code: ").append(workerReason).append(')');
            } else if (exitCode > 128 && exitCode <= 128 + 31) {
                text.append(" (").append(signalName(exitCode - 128)).append("?)");
            }
        }
        return text.toString();
    }

    private static String signalName(int signal) {
        return switch (signal) {
            case 1 -> "SIGHUP";
            case 2 -> "SIGINT";
            case 3 -> "SIGQUIT";
            case 4 -> "SIGILL";
            case 6 -> "SIGABRT";
            case 7 -> "SIGBUS";
            case 8 -> "SIGFPE";
            case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV";
            case 13 -> "SIGPIPE";
            case 15 -> "SIGTERM";
            default -> "signal " + signal;
        };
    }

    // ---------------------------------------------------------------- sender side

    /**
     * The background sender: waits until the worker has room and the scheduler has work, then fills.
     * Most chunks are sent without it, by {@link #fill} on the thread that made the work or the room.
     */
    private void sendLoop() {
        try {
            while (true) {
                boolean stopping;
                synchronized (this) {
                    while (state == State.READY && (!hasRoom(MAX_CHUNKS_IN_FLIGHT)
                            || stopWhenDrained() && !inFlight.isEmpty())) {
                        wait();
                    }
                    if (state != State.READY) {
                        return;
                    }
                    stopping = stopWhenDrained();
                }
                if (stopping || scheduler.awaitWork(100, TimeUnit.MILLISECONDS)) {
                    fill(true);
                }
            }
        } catch (InterruptedException e) {
            // the worker died or the pool is stopping
        }
    }

    /** Guarded by this: to be called whenever the state or the in-flight chunks change. */
    private void updateNeedsWork() {
        needsWork = state == State.STARTING || state == State.READY && inFlight.isEmpty();
    }

    boolean needsWork() {
        return needsWork;
    }

    /**
     * Guarded by this: room for another chunk. The first always fits; more (up to {@code chunks}, or
     * more small ones for fast tasks) only while no other worker is idle or still starting, so that a
     * worker never holds work that another could start on (tasks that wait for each other included).
     */
    private boolean hasRoom(int chunks) {
        if (inFlight.isEmpty()) {
            return true;
        }
        if (listener.anotherWorkerNeedsWork(this)) {
            return false;
        }
        if (inFlight.size() < chunks) {
            return true;
        }
        return chunks == MAX_CHUNKS_IN_FLIGHT && nanosPerTask < FAST_TASK_NANOS && inFlight.size() < FAST_MAX_CHUNKS
                && tasksInFlight < FAST_MAX_TASKS;
    }

    /** Guarded by this. */
    private boolean stopWhenDrained() {
        return shutdownRequested || settings.maxTasksPerWorker() > 0 && tasksSent >= settings.maxTasksPerWorker();
    }

    /**
     * Sends chunks while this worker has room and the scheduler has work, on the calling thread; asks the
     * worker to exit instead once it is drained and due to stop. Never waits for work. With
     * {@code block} false it gives up at once when another thread is sending to this worker (that
     * thread fills it, or the background sender will).
     */
    void fill(boolean block) {
        fill(block, MAX_CHUNKS_IN_FLIGHT);
    }

    /** As {@link #fill(boolean)}, leaving the worker with at most {@code upTo} chunks in flight. */
    void fill(boolean block, int upTo) {
        if (block) {
            sendLock.lock();
        } else if (!sendLock.tryLock()) {
            return;
        }
        try {
            while (true) {
                long budget;
                synchronized (this) {
                    if (state != State.READY || !hasRoom(upTo)) {
                        return;
                    }
                    budget = settings.maxTasksPerWorker() > 0 ? settings.maxTasksPerWorker() - tasksSent : Long.MAX_VALUE;
                    if (budget <= 0 || shutdownRequested) {
                        if (!inFlight.isEmpty()) {
                            return; // the last results will call fill again
                        }
                        state = State.STOPPING;
                        updateNeedsWork();
                    }
                }
                if (state() == State.STOPPING) {
                    sendShutdown();
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
        } catch (IOException e) {
            log.debug("worker-{}: sending failed ({}); the reader settles its tasks", id, e.toString());
        } finally {
            sendLock.unlock();
        }
    }

    /** Encodes and writes one chunk (and its function, the first time). Called holding the send lock. */
    private void send(Chunk chunk) throws IOException {
        Job job = chunk.job();
        if (job.isFinished()) {
            return;
        }
        if (sendKryo == null) {
            sendKryo = KryoSetup.newKryo(WorkerProcess.class.getClassLoader());
        }
        FunctionCache.SentFunction function;
        try {
            function = job.functions.get(job, sendKryo);
        } catch (ProcessPoolException e) {
            job.failAll(e);
            return;
        }
        chunk = encodeInputs(sendKryo, chunk);
        if (chunk == null) {
            return;
        }
        synchronized (this) {
            if (state != State.READY) {
                scheduler.requeue(chunk);
                return;
            }
            inFlight.addLast(new InFlight(chunk, nextSequence, new int[1]));
            updateNeedsWork();
            tasksInFlight += chunk.size();
            tasksSent += chunk.size();
        }
        long firstSequence = nextSequence;
        nextSequence += chunk.size();
        if (!functionsSent.containsKey(function.id)) {
            releaseFunctions();
            FunctionMessage.write(stdin, function.id, function.bytes);
            functionsSent.put(function.id, function);
        }
        tasks.write(stdin, function.id, firstSequence);
        stdin.flush();
    }

    /** Encodes each input; one that cannot be serialized fails alone and is left out of the chunk. */
    private Chunk encodeInputs(Kryo kryo, Chunk chunk) {
        if (kryo.getClassLoader() != chunk.job().classLoader) {
            kryo.setClassLoader(chunk.job().classLoader);
        }
        tasks.reset();
        List<Integer> failed = null;
        for (int i = 0; i < chunk.size(); i++) {
            try {
                tasks.add(kryo, chunk.inputs()[i]);
            } catch (RuntimeException | StackOverflowError e) {
                long index = chunk.indices()[i];
                chunk.job().failed(index, new ProcessPoolException(
                        "input " + index + " cannot be sent to a worker JVM: " + Job.describe(e), e, index));
                if (failed == null) {
                    failed = new ArrayList<>();
                }
                failed.add(i);
            }
        }
        if (failed == null) {
            return chunk;
        }
        int n = chunk.size() - failed.size();
        if (n == 0) {
            return null;
        }
        long[] indices = new long[n];
        Object[] inputs = new Object[n];
        for (int i = 0, j = 0; i < chunk.size(); i++) {
            if (!failed.contains(i)) {
                indices[j] = chunk.indices()[i];
                inputs[j++] = chunk.inputs()[i];
            }
        }
        return new Chunk(chunk.job(), indices, inputs);
    }

    /** Tells the worker to forget functions no call will use again. */
    private void releaseFunctions() throws IOException {
        for (var it = functionsSent.values().iterator(); it.hasNext(); ) {
            FunctionCache.SentFunction function = it.next();
            if (function.releasable()) {
                it.remove();
                ReleaseMessage.write(stdin, function.id);
            }
        }
    }

    private void sendShutdown() throws IOException {
        ShutdownMessage.write(stdin);
        stdin.close(); // flushes; nothing follows
    }

    private void sendConfig() throws IOException {
        ConfigMessage.write(stdin, settings.initializer(), WorkerProcess.class.getClassLoader());
        stdin.flush();
    }

    private void deleteSlotFile() {
        try {
            Files.deleteIfExists(slotFile);
        } catch (IOException e) {
            log.debug("could not delete {}: {}", slotFile, e.toString());
        }
    }

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    // ---------------------------------------------------------------- commons-exec glue

    /** Takes the worker's three pipes: stdin and stdout are ours, stderr goes through a pumper. */
    private final class Streams implements ExecuteStreamHandler {
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
            Thread pump = daemon(new StreamPumper(stderrStream, stderr, true), "procpool-worker-" + id + "-stderr");
            stderrPump = pump;
            pump.start();
            try {
                sendConfig();
            } catch (IOException e) {
                log.debug("worker-{}: could not send its configuration: {}", id, e.toString());
            }
            Thread r = daemon(WorkerProcess.this::readLoop, "procpool-worker-" + id + "-read");
            reader = r;
            r.start();
        }

        /** commons-exec closes the pipes after this returns: let the reader finish with stdout first. */
        @Override
        public void stop() {
            try {
                Thread r = reader;
                if (r != null) {
                    r.join(2 * EXIT_WAIT_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** commons-exec hands the launched {@link Process} to its destroyer: that is where we take it. */
    private final class Destroyer implements ProcessDestroyer {
        @Override
        public boolean add(Process p) {
            process.complete(p);
            if (listener.isStopping()) { // launched while the pool gave up or terminated: no use for it
                killForTermination();
            }
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
        @Override
        public void onProcessComplete(int exitValue) {}

        @Override
        public void onProcessFailed(ExecuteException e) {
            if (!process.isDone()) {
                launchFailed(e.getCause() instanceof Exception cause ? cause : e);
            }
        }
    }
}
