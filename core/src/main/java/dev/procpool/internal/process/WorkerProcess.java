package dev.procpool.internal.process;

import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Durations;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.Scheduler;
import dev.procpool.internal.worker.ReadyMessage;
import dev.procpool.internal.worker.RemoteFailure;
import dev.procpool.internal.worker.RunningTaskSlot;
import dev.procpool.internal.worker.SharedSegments;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker JVM as the pool sees it: the state it is in, the chunks it holds, and what its end
 * means. Its helpers each do one job: {@link WorkerJvm} the process and its pipes, {@link ChunkSender}
 * what goes in, {@link ResultReader} what comes out, {@link ChunkPacing} how much it may hold,
 * {@link RunningTaskTimer} the task time limit, {@link CrashTriage} and {@link DeadWorkerTasks} the
 * fate of its tasks when it dies. The state and the chunks in flight are guarded by this object's
 * monitor; the helpers change them only through the methods here.
 *
 * <p>The worker runs tasks strictly in the order sent and answers in that order, numbering each task
 * with a per-worker sequence number: results carry no ids, and the {@link RunningTaskSlot} tells
 * which task was running when the worker died.
 *
 * <h2>States</h2>
 * <ul>
 *   <li>{@code STARTING}: launched for the pool, or taken from the spares ({@link SpareShelf}: booted,
 *       with no pool's state); the JVM boots if it has not and runs the pool's initializer. Holds no
 *       task, counts as needing work (so no other worker hoards chunks meanwhile).
 *   <li>{@code READY}: holds no task; the next chunk goes here.
 *   <li>{@code BUSY}: holds one or more chunks; takes more while {@link ChunkPacing} allows.
 *   <li>{@code DRAINING}: takes no more chunks; once the ones it holds are answered it gets SHUTDOWN
 *       and exits by itself.
 *   <li>{@code DEAD}: its process is gone and its channel read to the end; terminal.
 * </ul>
 *
 * <h2>Transitions</h2>
 * <ul>
 *   <li>STARTING → READY: the READY frame arrives (read by the {@link ResultReader}).
 *   <li>READY → BUSY: a chunk is sent. BUSY → READY: its last chunk is answered in full.
 *   <li>READY or BUSY → DRAINING: the pool asks it to stop ({@link #requestStop}: close), or the chunk
 *       just sent spends its {@code maxTasksPerWorker} budget (recycling).
 *   <li>STARTING → DEAD: it fails to launch, dies or is killed before READY (the pool stops, or gives
 *       up on workers that keep dying at start), or its initializer fails.
 *   <li>READY, BUSY or DRAINING → DEAD: its channel ends (or turns out corrupt, and it is killed),
 *       or its process exits. A worker's end is its exit, never only the end of a pipe: a process a
 *       task started may hold the pipes open, so once the process has exited the channel gets a short
 *       while to deliver what the worker wrote, and is then given up.
 *   <li>READY, BUSY or DRAINING, silent (no frame, no answer to a PING) for the liveness timeout: it
 *       is frozen or stuck, so it is killed and ends as above.
 * </ul>
 * Becoming DEAD is decided when the channel ends, before the exit code is known: the pool counts the
 * end and replaces a worker that was ready right then ({@link Listener#onEnd}); the tasks it held are
 * judged once the process is gone (the running-task slot is final only then).
 *
 * <h2>How it ended</h2>
 * Once DEAD, its end is classified ({@link WorkerEnd}): STOPPED (the pool asked), RECYCLED (drained
 * after its budget and exited when told), CANCELLED (killed to stop the running task of a cancelled
 * call), TIMED_OUT (killed by the timeout watch), UNRESPONSIVE (killed by the liveness watch), or
 * CRASHED (anything else). The last three count as crashes. Independently of that, every task it held without an answer is judged by
 * {@link CrashTriage}: only the task running at the death can be blamed; the others run again.
 */
public final class WorkerProcess {
    private static final Logger log = LoggerFactory.getLogger(WorkerProcess.class);
    /** {@link #sendBudget}: nothing may be sent now. */
    static final long NO_ROOM = -1;
    /** {@link #sendBudget}: the worker is drained; send SHUTDOWN (and nothing after it). */
    static final long SEND_SHUTDOWN = 0;

    enum State { STARTING, READY, BUSY, DRAINING, DEAD }

    /** What {@link ChunkSender#sendLoop} is woken for. */
    enum Wake { ROOM, SHUTDOWN, STOP, PING }

    /**
     * After its process exits, how long the channel may go without a frame before it is given up as
     * held open by someone else: what the worker wrote before it died is already in the pipe.
     */
    static final long DRAIN_AFTER_EXIT_MILLIS = 500;

    /** What the pool learns from a worker's end. */
    record Exit(WorkerProcess worker, boolean wasReady, WorkerEnd end, int exitCode, String reason,
            List<String> lastStderrLines) {}

    interface Listener {
        /** True once the pool stops taking work: a worker starting now is killed at once. */
        boolean isStopping();

        /** True when some worker other than {@code worker} is starting or idle. */
        boolean anotherWorkerNeedsWork(WorkerProcess worker);

        void onReady(WorkerProcess worker);

        /**
         * A worker that was ready has ended (its channel is gone; its exit not confirmed yet): count the end
         * and replace it now, unless {@link #replaceNow} did. {@link #onExit} follows once the exit is known.
         */
        void onEnd(WorkerProcess worker, WorkerEnd end);

        /**
         * A ready worker is about to end for a reason the pool knows first (killed for its time limit, a
         * cancel or silence; told SHUTDOWN after its recycling budget): its replacement is taken now, while
         * it dies, and not again at its end.
         */
        void replaceNow(WorkerProcess worker);

        void onInitializerFailed(WorkerProcess worker, RemoteFailure failure);

        void onExit(Exit exit);

        /** The pool's shared values ({@code Pool.share}), which this worker's tasks may ask for. */
        SharedValueStore sharedValues();

        /** True while AUTO mode tries worker JVMs: a worker that dies before ready is told at DEBUG only. */
        default boolean onTrial() {
            return false;
        }
    }

    final int id;
    private final WorkerSettings settings;
    private final Scheduler scheduler;
    private final Listener listener;
    private final SpareJvm spare;
    private final WorkerJvm jvm;
    private final ChunkSender sender;
    /** When the pool took the JVM: its start time limit counts from here (a spare may have waited long). */
    private final long takenNanos = System.nanoTime();
    private volatile long readyPid = -1;
    private volatile Thread reader;
    private volatile Thread sendLoop;
    /** STARTING or READY: read without locks by the other workers' dispatch. */
    private volatile boolean needsWork = true;
    /** When the reader last took a frame, any frame: the liveness watch's measure of progress. */
    private volatile long lastHeardNanos = System.nanoTime();
    private final long pingAfterNanos;
    private final AtomicBoolean ended = new AtomicBoolean();
    /** Completes once the worker's end is settled: its tasks failed, retried or re-queued, the pool told. */
    private final CompletableFuture<Void> settled = new CompletableFuture<>();

    // Guarded by this.
    private State state = State.STARTING;
    private final InFlightChunks inFlight = new InFlightChunks();
    private final ChunkPacing pacing = new ChunkPacing(System::nanoTime);
    private final RunningTaskTimer timer;
    private boolean stopRequested;
    private boolean shutdownSent;
    private boolean killedToCancel;
    private boolean unresponsive;
    private boolean pingWanted;
    private long lastPingNanos = System.nanoTime();

    /** A worker around a JVM not bound to a pool yet; {@link #bind()} makes it this worker's. */
    WorkerProcess(int id, WorkerSettings settings, SpareJvm spare, Scheduler scheduler, Listener listener) {
        this.id = id;
        this.settings = settings;
        this.scheduler = scheduler;
        this.listener = listener;
        this.spare = spare;
        this.jvm = spare.jvm;
        this.sender = new ChunkSender(this, jvm, scheduler, listener.sharedValues());
        this.timer = settings.taskTimeout() == null ? null : new RunningTaskTimer(settings.taskTimeout().toNanos());
        // a few chances to answer before it is given up
        this.pingAfterNanos = settings.livenessTimeout().toNanos() / 3;
    }

    long pid() {
        long pid = readyPid;
        return pid >= 0 ? pid : jvm.pid();
    }

    long uptimeNanos() {
        return jvm.uptimeNanos();
    }

    StderrTail stderr() {
        return jvm.stderr();
    }

    synchronized State state() {
        return state;
    }

    /** READY, BUSY or DRAINING: it has a live channel and may hold tasks. */
    synchronized boolean isServing() {
        return serving();
    }

    private boolean serving() {
        return state == State.READY || state == State.BUSY || state == State.DRAINING;
    }

    boolean needsWork() {
        return needsWork;
    }

    /** Guarded by this: to be called whenever the state changes. */
    private void setState(State next) {
        state = next;
        needsWork = next == State.STARTING || next == State.READY;
    }

    // ---------------------------------------------------------------- the pool's commands

    /**
     * Makes the JVM this worker's: what its process did so far is replayed, the rest comes as it happens
     * (a failure to launch through {@link Listener#onExit}). False when the JVM had already ended as a
     * spare: then this worker never existed.
     */
    boolean bind() {
        return spare.bind(this, new JvmEvents());
    }

    SpareJvm spareJvm() {
        return spare;
    }

    /** Whether the JVM was started before this pool took it. */
    boolean wasSpare() {
        return spare.number > 0;
    }

    /** Sends SIGKILL; the reader then finds the end of the channel and settles the in-flight tasks. */
    void kill() {
        jvm.kill();
    }

    /** Kills the worker because the pool is terminating: not a crash. */
    void killForTermination() {
        synchronized (this) {
            stopRequested = true;
        }
        kill();
    }

    /** Kills the worker if the task it is running belongs to {@code job} (the job was cancelled with interrupt). */
    void killIfRunning(Job job) {
        killToCancel(jvm.slot().get(), job);
    }

    /**
     * One pass of the watch: kills the worker when the task it runs belongs to a call cancelled with
     * interrupt. Such a task was in the worker's pipe when the call was cancelled and started since.
     */
    void checkCancelled() {
        long running = jvm.slot().get();
        Job job;
        synchronized (this) {
            job = serving() && inFlight.isUnanswered(running) ? inFlight.jobOf(running) : null;
        }
        if (job != null && job.isInterruptRequested()) {
            killToCancel(running, job);
        }
    }

    private void killToCancel(long running, Job job) {
        synchronized (this) {
            if (!serving() || inFlight.jobOf(running) != job || killedToCancel) {
                return;
            }
            killedToCancel = true;
        }
        log.info("worker-{} (pid {}): killing it to cancel its running task", id, pid());
        listener.replaceNow(this);
        kill();
    }

    /** Asks the worker to exit once its in-flight work is answered; one still starting is killed. */
    void requestStop() {
        synchronized (this) {
            stopRequested = true;
            if (state == State.STARTING) {
                kill();
            } else if (state == State.READY || state == State.BUSY) {
                setState(State.DRAINING);
            }
            notifyAll();
        }
    }

    /** Waits for the worker's process to end and its end to be settled, up to the deadline. */
    boolean awaitExit(long deadlineNanos) throws InterruptedException {
        Process p = jvm.awaitLaunch(deadlineNanos);
        if (p == null) {
            return state() == State.DEAD;
        }
        if (!p.waitFor(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            return false;
        }
        if (Thread.currentThread() == reader) { // the reader may be the one stopping the pool
            return true;
        }
        try {
            settled.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return settled.isDone();
        }
    }

    synchronized boolean isStartingLongerThan(long nowNanos, Duration limit) {
        return state == State.STARTING && !stopRequested && nowNanos - takenNanos > limit.toNanos();
    }

    /** One pass of the timeout watch: kills the worker when its running task is past the time limit. */
    void checkTimeout(long nowNanos) {
        if (timer == null) {
            return;
        }
        long running = jvm.slot().get();
        synchronized (this) {
            if (!timer.expired(running, serving() && inFlight.isUnanswered(running), nowNanos)) {
                return;
            }
        }
        log.warn("worker-{} (pid {}): task ran past the {} time limit, killing the worker", id, pid(),
                Durations.human(settings.taskTimeout()));
        listener.replaceNow(this);
        kill();
    }

    /**
     * One pass of the liveness watch: asks a quiet worker for a PONG, and kills one that has answered
     * nothing for the liveness timeout. Its queued tasks never started, so they move to other workers.
     */
    void checkLiveness(long nowNanos) {
        long quiet = nowNanos - lastHeardNanos;
        synchronized (this) {
            if (!serving() || unresponsive) {
                return;
            }
            if (quiet < settings.livenessTimeout().toNanos()) {
                if (quiet >= pingAfterNanos && nowNanos - lastPingNanos >= pingAfterNanos && !pingWanted) {
                    pingWanted = true;
                    notifyAll();
                }
                return;
            }
            unresponsive = true;
        }
        log.warn("worker-{} (pid {}): unresponsive, no frame and no answer to a heartbeat for {}; killing it", id,
                pid(), Durations.human(settings.livenessTimeout()));
        listener.replaceNow(this);
        kill();
    }

    /** The reader took a frame. */
    void heard() {
        lastHeardNanos = System.nanoTime();
    }

    /** Sends work while the worker has room; see {@link ChunkSender#fill}. */
    void fill(boolean block) {
        sender.fill(block, ChunkPacing.MAX_CHUNKS_IN_FLIGHT);
    }

    /** As {@link #fill(boolean)}, leaving the worker with at most {@code upTo} chunks in flight. */
    void fill(boolean block, int upTo) {
        sender.fill(block, upTo);
    }

    // ---------------------------------------------------------------- for the sender

    /**
     * How many more tasks may be sent now: {@link #NO_ROOM}, {@link #SEND_SHUTDOWN} (returned once),
     * or the tasks left in the recycling budget.
     */
    synchronized long sendBudget(int upTo) {
        if (state == State.DRAINING) {
            if (inFlight.isEmpty() && !shutdownSent) {
                shutdownSent = true;
                return SEND_SHUTDOWN;
            }
            return NO_ROOM;
        }
        if ((state != State.READY && state != State.BUSY) || !hasRoom(upTo)) {
            return NO_ROOM;
        }
        int max = settings.maxTasksPerWorker();
        return max > 0 ? max - inFlight.tasksSent() : Long.MAX_VALUE;
    }

    private boolean hasRoom(int upTo) {
        return pacing.hasRoom(inFlight.chunkCount(), inFlight.unansweredTasks(), upTo,
                () -> listener.anotherWorkerNeedsWork(this));
    }

    /** Records a chunk about to be written; false when the worker no longer takes work (re-queue it). */
    synchronized boolean chunkSent(Chunk chunk, long firstSequence, List<Path> segments) {
        if (state != State.READY && state != State.BUSY) {
            return false;
        }
        inFlight.add(chunk, firstSequence, segments);
        int max = settings.maxTasksPerWorker();
        setState(max > 0 && inFlight.tasksSent() >= max ? State.DRAINING : State.BUSY);
        return true;
    }

    /** SHUTDOWN is written: a worker drained for recycling exits now, so its replacement is taken now. */
    void shutdownSent() {
        boolean recycled;
        synchronized (this) {
            recycled = !stopRequested;
        }
        if (recycled) {
            listener.replaceNow(this);
        }
    }

    /** Blocks the background sender until there is something for it to do. */
    synchronized Wake awaitSendable() throws InterruptedException {
        while (true) {
            if (state == State.DEAD || shutdownSent) {
                return Wake.STOP;
            }
            if (pingWanted) {
                pingWanted = false;
                lastPingNanos = System.nanoTime();
                return Wake.PING;
            }
            if (state == State.DRAINING) {
                if (inFlight.isEmpty()) {
                    return Wake.SHUTDOWN;
                }
            } else if (hasRoom(ChunkPacing.MAX_CHUNKS_IN_FLIGHT)) {
                return Wake.ROOM;
            }
            wait();
        }
    }

    // ---------------------------------------------------------------- for the reader

    void ready(ReadyMessage ready) {
        readyPid = ready.pid();
        heard();
        jvm.deleteSlotFile();
        log.debug("worker-{} ready: pid {}, Java {}, {} ms{}", id, ready.pid(), ready.javaVersion(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - takenNanos),
                wasSpare() ? " (" + spare.name + ", up " + TimeUnit.NANOSECONDS.toMillis(uptimeNanos()) + " ms)" : "");
        listener.onReady(this); // counted before anyone can see it ready
        synchronized (this) {
            if (state != State.STARTING) {
                return;
            }
            setState(State.READY);
        }
        Thread s = WorkerJvm.daemon(sender::sendLoop, "procpool-worker-" + id + "-send");
        sendLoop = s;
        s.start();
    }

    /**
     * Reads the channel on the JVM's reader thread, from the first frame after BOOTED (null: it ended), to
     * its end; {@code failure} says why reading up to there failed, if it did.
     */
    void readChannel(dev.procpool.internal.worker.FrameChannel.Frame first, String failure) {
        new ResultReader(this, jvm, settings.initializer(), first, failure).run();
    }

    /** The worker asked for a class or resource only the caller has. */
    void answer(dev.procpool.internal.worker.CodeMessage.Request request) {
        sender.answer(request);
    }

    /** A task asked for a shared value this worker does not have yet. */
    void answerShared(dev.procpool.internal.worker.SharedMessage.Request request) {
        sender.answerShared(request);
    }

    /** Shared values were closed: tell the worker now if its pipe is free, else before its next chunk. */
    void sendSharedReleases() {
        sender.sendSharedReleases();
    }

    void initializerFailed(RemoteFailure failure) {
        listener.onInitializerFailed(this, failure);
    }

    synchronized InFlightChunks.Sent oldestUnanswered() {
        return inFlight.oldest();
    }

    /** Counts {@code count} answers for the oldest chunk; true when that completed it and made room. */
    synchronized boolean answered(InFlightChunks.Sent oldest, int count) {
        if (state == State.DEAD || !inFlight.answer(oldest, count)) { // DEAD: settled without the reader
            return false;
        }
        oldest.deleteSegments(); // every task of the chunk answered: the worker read all its inputs
        pacing.chunkAnswered(oldest.chunk.size(), !inFlight.isEmpty());
        if (state == State.BUSY && inFlight.isEmpty()) {
            setState(State.READY);
        }
        notifyAll();
        return true;
    }

    /**
     * The channel ended, or the process exited and the channel was given up: wait for the process, then
     * fail, retry or re-queue what it held. Runs once, on whichever thread learns of the end first.
     */
    void channelEnded(String corruption) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        try {
            settle(corruption);
        } finally {
            settled.complete(null);
        }
    }

    private void settle(String corruption) {
        if (corruption != null) {
            kill();
        }
        // Decided now, not after the exit is confirmed: nothing below needs the exit code, and a ready worker's
        // replacement (a spare, usually) is taken at once instead of after the process reaper and the stderr
        // pump have caught up (issue 15: back to W ready workers within 20 ms).
        List<InFlightChunks.Sent> held;
        boolean wasReady;
        WorkerEnd end;
        String cause = corruption;
        long timedOut;
        synchronized (this) {
            timedOut = timer == null ? RunningTaskSlot.NONE : timer.expiredSequence();
            wasReady = state != State.STARTING;
            end = WorkerEnd.classify(stopRequested, state == State.DRAINING && shutdownSent && inFlight.isEmpty(),
                    corruption != null, killedToCancel, timedOut >= 0);
            if (unresponsive) {
                if (end == WorkerEnd.CRASHED) {
                    end = WorkerEnd.UNRESPONSIVE;
                }
                cause = "unresponsive: no frame and no answer to a heartbeat for " + settings.livenessTimeout()
                        + (corruption == null ? "" : "; " + corruption);
            }
            setState(State.DEAD);
            held = inFlight.takeAll();
            notifyAll();
        }
        if (wasReady) {
            listener.onEnd(this, end);
        }
        int exitCode = jvm.awaitExitCode();
        jvm.awaitStderrDrained();
        long running = jvm.slot().get(); // read once the process is gone: the task it died in
        CrashTriage.Death death;
        synchronized (this) {
            death = new CrashTriage.Death(running, timedOut, killedToCancel, unresponsive);
        }
        Thread s = sendLoop;
        if (s != null) {
            s.interrupt();
        }
        jvm.deleteSlotFile();
        // the process is gone: the inputs it did not read, and the results it wrote that were never read
        for (InFlightChunks.Sent sent : held) {
            sent.deleteSegments();
        }
        if (pid() > 0) {
            SharedSegments.sweepPid(SharedSegments.directory(), pid());
        }
        unmapRingsIfIdle();
        String who = "worker-" + id + " (pid " + pid() + ")";
        String reason = WorkerExitReport.describe(exitCode, cause, death.timedOutSequence() >= 0);
        WorkerExitReport report = new WorkerExitReport(who, exitCode, reason, jvm.lastStderrLines());
        if (end.unexpected() && (wasReady || !listener.onTrial())) {
            log.warn("{} died: {}{}", who, reason, report.stderrSuffix());
        } else {
            log.debug("{} exited: {}", who, reason);
        }
        // The pool counts the end before any task moves on: a retried task may finish, and its call
        // return, before this thread runs another line, and the caller's stats must show the crash.
        listener.onExit(new Exit(this, wasReady, end, exitCode, reason, report.lastStderrLines()));
        List<Long> retried = DeadWorkerTasks.settle(held, death, settings.retries(), settings.taskTimeout(), scheduler,
                report);
        if (!retried.isEmpty()) {
            log.info("worker-{}: retrying the task(s) for input(s) {} after the crash", id, retried);
        }
    }

    /**
     * Frees the dead worker's rings now, when no thread can touch them again (the reader is this thread or
     * gone; the sender checks that the worker is DEAD under its lock); otherwise the collector frees them.
     */
    private void unmapRingsIfIdle() {
        Thread r = reader;
        if (r == null || r == Thread.currentThread() || r.getState() == Thread.State.TERMINATED) {
            sender.unmapRings();
        }
    }

    // ---------------------------------------------------------------- from the process

    private final class JvmEvents implements WorkerJvm.Events {
        @Override
        public void processStarted() {
            if (listener.isStopping()) { // launched while the pool gave up or terminated: no use for it
                killForTermination();
            }
        }

        @Override
        public void pipesOpen() {
            reader = spare.reader(); // reading since the pipes opened; goes on as this worker's ResultReader
            sender.sendConfig(settings.initializer());
        }

        @Override
        public void exited() {
            jvm.killLeftovers(); // the usual holders of its pipes: children its tasks started
            Thread r = reader;
            if (r == null) {
                return;
            }
            try {
                // while the reader takes frames it is draining what the worker wrote: let it finish
                long heard;
                do {
                    heard = lastHeardNanos;
                    r.join(DRAIN_AFTER_EXIT_MILLIS);
                } while (r.isAlive() && !ended.get() && lastHeardNanos != heard);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (r.isAlive() && !ended.get()) {
                log.info("worker-{} (pid {}) exited but its channel stays open (a process it started holds it?);"
                        + " not waiting for it", id, pid());
                channelEnded(null);
            }
        }

        @Override
        public void launchFailed(Exception e) {
            synchronized (WorkerProcess.this) {
                if (state == State.DEAD) {
                    return;
                }
                setState(State.DEAD);
            }
            jvm.deleteSlotFile();
            ended.set(true);
            settled.complete(null);
            listener.onExit(new Exit(WorkerProcess.this, false, WorkerEnd.CRASHED, -1,
                    "could not launch " + settings.javaExecutable() + ": " + e, List.of()));
        }
    }
}
