package dev.procpool.internal.process;

import dev.procpool.PoolMode;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPoolException;
import dev.procpool.internal.engine.Durations;
import dev.procpool.internal.engine.Engine;
import dev.procpool.internal.engine.EnginePool;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.PoolCounters;
import dev.procpool.internal.engine.Scheduler;
import dev.procpool.internal.engine.TaskFailures;

import dev.procpool.internal.worker.RemoteFailure;
import dev.procpool.internal.worker.SharedSegments;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code workers} worker JVMs running: starts them, replaces those that die or are recycled,
 * and gives up (breaking the pool with the reason) when they keep dying before they are ready.
 *
 * <p>A worker JVM is taken from the spares of this pool's shape ({@link SpareShelf}, through the pool's
 * lease) when there is one, else launched for the pool; either way it becomes a {@link WorkerProcess} of
 * this pool only when bound, and runs the pool's initializer then. The shelf refills in the background
 * only once all of this pool's first workers were ready, so a cold start on few cores is not slowed by
 * starting twice the JVMs. Closing or terminating the pool stops its own workers and closes the lease:
 * spares it did not take are left to the shelf.
 *
 * <p>Replacing a worker is on the clock (issue 15: back to W ready workers within 20 ms), so it waits for
 * nothing slow. A ready worker is replaced, and its end counted, as soon as its channel ends
 * ({@link #onEnd}), not once its exit code and last stderr lines are in ({@link #onExit}, milliseconds
 * later under load: the process reaper and the stderr pump must run first). One the pool itself ends (killed
 * for its time limit, a cancel or silence; told SHUTDOWN after its recycling budget) is replaced before it
 * is even dead ({@link #replaceNow}): for the short while it takes to die, the pool has W ready workers
 * besides it, never more than W doing work. A worker that dies before it was ready is still replaced only
 * at its exit: whether to give up depends on it. A taken spare is reported back to the lease once ready
 * or gone, and only then may the shelf start the JVM that takes its place there: a JVM booting on a
 * busy machine would take the CPU the taken spare needs for its CONFIG → READY step.
 */
public final class ProcessEngine implements Engine, WorkerProcess.Listener {
    private static final Logger log = LoggerFactory.getLogger(ProcessEngine.class);
    /** Workers that die before ready, in a row, before the pool gives up instead of looping. */
    static final int MAX_START_FAILURES_IN_A_ROW = 3;

    private final WorkerSettings settings;
    private final Scheduler scheduler;
    private final Consumer<ProcessPoolException> breakPool;
    private final Set<WorkerProcess> workers = ConcurrentHashMap.newKeySet();
    private final SharedValueStore sharedValues = new SharedValueStore();
    private final AtomicInteger nextId = new AtomicInteger();
    private final CountDownLatch firstReadyOrBroken = new CountDownLatch(1);
    private final PoolCounters counters;
    private int startFailuresInARow;
    private volatile boolean stopping;
    /** Completes when shutdown or terminate has seen every worker JVM exit (or killed it). */
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile ProcessPoolException broken;
    private final Thread timeoutWatch;
    private final ClassDataArchive archive;
    /** The worker recording the class-data archive at its exit, and where; guarded by this. */
    private WorkerProcess recorder;
    private Path recording;
    /** Set once a worker started with the archive died before ready: no worker of this pool uses it again. Guarded by this. */
    private boolean archiveSuspect;
    private boolean recordedOnce;
    /** Workers started with the archive, until they are ready or dead. */
    private final Map<WorkerProcess, ClassDataArchive.Use> startedWithArchive = new ConcurrentHashMap<>();

    /** On trial (AUTO mode): a failure to start is the fallback's reason, told once by the pool, not an ERROR here. */
    private volatile boolean trial;
    /** The pool's hold on the spares of its shape; null when the pool keeps none. */
    private final SpareShelf.Lease spares;
    /** Workers that became ready so far, up to {@code workers}: then the shelf may refill. Guarded by this. */
    private int firstReady;
    /** Taken spares not ready yet: the shelf refills only once each is ready or gone ({@link SpareShelf.Lease#take}). */
    private final Set<WorkerProcess> takenNotReady = ConcurrentHashMap.newKeySet();
    /** Ready workers already replaced ({@link #onEnd}, {@link #replaceNow}), their exit not yet seen. */
    private final Set<WorkerProcess> replacedEarly = ConcurrentHashMap.newKeySet();

    public ProcessEngine(WorkerSettings settings, EnginePool.EngineContext context) {
        this(settings, context, false);
    }

    /**
     * @param trial true for AUTO mode's try: workers' stderr is held back until one is ready, and a
     *              failure to start is logged at DEBUG only (the pool reports it once); see {@link #endTrial()}
     */
    public ProcessEngine(WorkerSettings settings, EnginePool.EngineContext context, boolean trial) {
        this.trial = trial;
        this.settings = settings;
        this.scheduler = context.scheduler();
        this.counters = context.counters();
        this.breakPool = context.breakPool();
        this.archive = ClassDataArchive.forWorkers(settings);
        this.spares = settings.spareWorkers() > 0 ? SpareWorkers.open(settings) : null;
        // the workers first: the rest of the set-up runs while their JVMs boot
        for (int i = 0; i < settings.workers(); i++) {
            launchWorker();
        }
        // what JVMs killed with -9 left behind: large values in flight, slot files of workers not yet ready
        // (only files of dead pids: the slot files of the workers just launched carry ours)
        List<Path> swept = SharedSegments.sweepDead(SharedSegments.directory());
        if (!swept.isEmpty()) {
            log.debug("deleted {} shared-memory file(s) left by JVMs no longer running: {}", swept.size(), swept);
        }
        timeoutWatch = new Thread(this::watchTimeouts, "procpool-timeout-watch");
        timeoutWatch.setDaemon(true);
        timeoutWatch.start();
    }

    @Override
    public PoolMode mode() {
        return PoolMode.PROCESSES;
    }

    /** Waits until one worker is ready (true) or the workers cannot start (false). */
    public boolean awaitFirstReady(Duration timeout) throws InterruptedException {
        return firstReadyOrBroken.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && broken == null;
    }

    public ProcessPoolException brokenReason() {
        return broken;
    }

    @Override
    public boolean onTrial() {
        return trial;
    }

    /** The trial succeeded: workers' output and failures are reported as usual from now on. */
    public void endTrial() {
        trial = false;
        for (WorkerProcess worker : workers) {
            worker.stderr().release();
        }
    }

    private void launchWorker() {
        if (stopping) {
            return;
        }
        if (takeSpare()) {
            return;
        }
        WorkerProcess worker;
        synchronized (this) {
            Path recordHere = null;
            List<String> extra = List.of();
            ClassDataArchive.Use use = null;
            if (archive != null) {
                if (!archiveSuspect && (use = archive.use()) != null) {
                    extra = use.options();
                } else if (!recordedOnce) { // once: a pool that does not use the archive would record at every start
                    recordedOnce = true;
                    recordHere = archive.recordingFile();
                    extra = archive.recordOptions(recordHere);
                }
            }
            try {
                int id = nextId.incrementAndGet();
                WorkerJvm jvm = new WorkerJvm("worker-" + id, id, settings, extra, WorkerJvm.slotDirectory());
                worker = new WorkerProcess(id, settings, new SpareJvm(0, "worker-" + id, jvm, use, null), scheduler,
                        this);
            } catch (IOException e) {
                giveUp(new ProcessPoolException("cannot prepare a worker JVM: " + e, e));
                return;
            }
            if (recordHere != null) {
                recorder = worker;
                recording = recordHere;
            }
            if (use != null) {
                startedWithArchive.put(worker, use);
            }
        }
        if (trial) {
            worker.stderr().hold();
        }
        workers.add(worker);
        worker.bind();
        worker.spareJvm().launch();
    }

    /** Makes a spare of this pool's shape one of its workers; false when there is none. */
    private boolean takeSpare() {
        if (spares == null) {
            return false;
        }
        SpareJvm spare;
        while ((spare = spares.take()) != null) {
            WorkerProcess worker = new WorkerProcess(nextId.incrementAndGet(), settings, spare, scheduler, this);
            if (spare.archiveUse != null && !spare.isBooted()) { // one that booted with it proved the archive
                startedWithArchive.put(worker, spare.archiveUse);
            }
            workers.add(worker);
            takenNotReady.add(worker);
            if (worker.bind()) {
                if (!trial) {
                    worker.stderr().release(); // held while it was a spare
                }
                log.debug("worker-{}: took {} (pid {})", worker.id, spare.name, spare.pid());
                return true;
            }
            workers.remove(worker); // it ended as a spare: never this pool's
            startedWithArchive.remove(worker);
            takenReadyOrGone(worker);
        }
        return false;
    }

    @Override
    public boolean isStopping() {
        return stopping;
    }

    @Override
    public boolean anotherWorkerNeedsWork(WorkerProcess worker) {
        for (WorkerProcess other : workers) {
            if (other != worker && other.needsWork()) {
                return true;
            }
        }
        return false;
    }

    /** A taken spare is ready or gone: the shelf may start the JVM that replaces it on the shelf. */
    private void takenReadyOrGone(WorkerProcess worker) {
        if (takenNotReady.remove(worker)) {
            spares.takenReadyOrGone();
        }
    }

    @Override
    public void onReady(WorkerProcess worker) {
        startedWithArchive.remove(worker);
        synchronized (this) {
            startFailuresInARow = 0;
        }
        counters.workersStarted.incrementAndGet();
        if (!trial) {
            worker.stderr().release();
        }
        boolean allReady;
        synchronized (this) {
            allReady = firstReady < settings.workers() && ++firstReady == settings.workers();
        }
        if (allReady && spares != null) {
            spares.allowRefill();
        }
        takenReadyOrGone(worker);
        firstReadyOrBroken.countDown();
        if (stopping) {
            worker.requestStop();
        }
    }

    @Override
    public void onInitializerFailed(WorkerProcess worker, RemoteFailure failure) {
        giveUp(new ProcessPoolException("the pool's initializer failed in worker-" + worker.id + ": "
                + TaskFailures.describe(failure)
                + (failure.rebuilt() == null ? "\n" + failure.stackTrace() : ""), failure.rebuilt()));
    }

    /**
     * A ready worker's channel ended: its end is counted and a replacement taken now, before the exit is
     * confirmed (the process reaper, the stderr pump): with a booted spare the pool is back to W ready
     * workers in the time of one CONFIG → READY round trip. The same cases as {@link #onExit} replace it:
     * a ready worker's end always does, unless the pool stops or is broken.
     */
    @Override
    public void onEnd(WorkerProcess worker, WorkerEnd end) {
        if (stopping || broken != null) {
            return;
        }
        count(worker, end);
        replaceNow(worker);
    }

    @Override
    public void replaceNow(WorkerProcess worker) {
        if (stopping || broken != null) {
            return;
        }
        if (replacedEarly.add(worker)) {
            launchWorker();
        }
    }

    private void count(WorkerProcess worker, WorkerEnd end) {
        if (end.unexpected()) {
            counters.crashes.incrementAndGet();
        } else if (end == WorkerEnd.RECYCLED) {
            counters.recycled.incrementAndGet();
            log.debug("worker-{} recycled after {} tasks", worker.id, settings.maxTasksPerWorker());
        }
    }

    @Override
    public void onExit(WorkerProcess.Exit exit) {
        takenReadyOrGone(exit.worker());
        boolean replaced = replacedEarly.remove(exit.worker());
        workers.remove(exit.worker());
        synchronized (this) {
            if (exit.worker() == recorder) {
                archive.recorded(recording, exit.exitCode());
                recorder = null;
                recording = null;
            }
        }
        ClassDataArchive.Use archiveUsed = startedWithArchive.remove(exit.worker());
        if (stopping || broken != null) {
            return;
        }
        if (replaced) {
            return;
        }
        if (!exit.wasReady() && archiveUsed != null) {
            retryWithoutArchive(exit, archiveUsed);
            return;
        }
        count(exit.worker(), exit.end());
        if (!exit.wasReady()) {
            boolean giveUp;
            synchronized (this) {
                giveUp = ++startFailuresInARow >= MAX_START_FAILURES_IN_A_ROW;
            }
            if (giveUp) {
                giveUp(new ProcessPoolException("worker JVMs cannot start (" + MAX_START_FAILURES_IN_A_ROW
                        + " failed in a row); the last one: " + exit.reason() + lastLines(exit)));
                return;
            }
        }
        launchWorker();
    }

    /**
     * A worker died at start with the class-data archive: a truncated or foreign archive kills every JVM
     * that maps it, so it is removed and the worker started again at once without it, not counted as a
     * failed start. A later pool records a good one again. Were the archive not the cause, the next
     * starts fail and count as usual.
     */
    private void retryWithoutArchive(WorkerProcess.Exit exit, ClassDataArchive.Use used) {
        boolean first;
        synchronized (this) {
            first = !archiveSuspect;
            archiveSuspect = true;
        }
        if (first) {
            log.warn("procpool: worker-{} died at start with the class-data archive {} ({}); removed it, starting"
                    + " workers without it{}", exit.worker().id, archive.path(), exit.reason(), lastLines(exit));
        }
        archive.discard(used);
        launchWorker();
    }

    private static String lastLines(WorkerProcess.Exit exit) {
        List<String> lines = exit.lastStderrLines();
        return lines.isEmpty() ? "" : "; its last stderr lines:\n  " + String.join("\n  ", lines);
    }

    private void giveUp(ProcessPoolException reason) {
        synchronized (this) {
            if (broken != null) {
                return;
            }
            broken = reason;
        }
        if (trial) {
            log.debug("procpool: {}", reason.getMessage());
        } else {
            log.error("procpool: {}", reason.getMessage());
        }
        breakPool.accept(reason);
        firstReadyOrBroken.countDown();
        terminate();
    }

    /** Watches task time limits, workers that fall silent and, always, how long workers take to become ready. */
    private void watchTimeouts() {
        Duration timeout = settings.taskTimeout();
        long pollMillis = Engine.watchIntervalMillis(timeout);
        Duration startLimit = settings.startTimeout();
        // on during shutdown too: close() waits for workers, and a frozen one is given up by this watch
        while (true) {
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (WorkerProcess worker : workers) {
                if (worker.isStartingLongerThan(now, startLimit)) {
                    giveUp(new ProcessPoolException("worker-" + worker.id + " did not become ready within "
                            + Durations.human(startLimit) + " (a hanging initializer?); see Builder.startTimeout"));
                    return;
                }
                worker.checkTimeout(now);
                worker.checkLiveness(now);
                worker.checkCancelled();
            }
        }
    }

    @Override
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    @Override
    public SharedValueStore sharedValues() {
        return sharedValues;
    }

    @Override
    public void share(long id, Object value) {
        sharedValues.share(id, value);
    }

    @Override
    public void unshare(long id) {
        sharedValues.unshare(id);
        for (WorkerProcess worker : workers) {
            worker.sendSharedReleases();
        }
    }

    @Override
    public void shutdown(long deadlineNanos) throws InterruptedException {
        stopping = true;
        closeSpares();
        List<WorkerProcess> all = new ArrayList<>(workers);
        for (WorkerProcess worker : all) {
            worker.requestStop();
        }
        for (WorkerProcess worker : all) {
            if (!worker.awaitExit(deadlineNanos)) {
                log.warn("worker-{} (pid {}) did not exit in time; killing it", worker.id, worker.pid());
                worker.kill();
                worker.awaitExit(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
            }
        }
        stopTimeoutWatch();
        sharedValues.unshareAll();
        stopped.complete(null);
    }

    @Override
    public void terminate() {
        stopping = true;
        closeSpares();
        List<WorkerProcess> all = new ArrayList<>(workers);
        for (WorkerProcess worker : all) {
            worker.killForTermination();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        boolean interrupted = false;
        for (WorkerProcess worker : all) {
            try {
                worker.awaitExit(deadline);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        stopTimeoutWatch();
        sharedValues.unshareAll();
        stopped.complete(null);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Gives the pool's hold on the spares back; the spares it did not take stay for later pools. */
    private void closeSpares() {
        if (spares != null) {
            spares.close();
        }
    }

    private void stopTimeoutWatch() {
        if (timeoutWatch != null) {
            timeoutWatch.interrupt();
        }
    }

    @Override
    public int parallelism() {
        return settings.workers();
    }

    @Override
    public ProcessPoolException cannotRun(Job job) {
        return CallerCode.unavailable(job.function);
    }

    @Override
    public void dispatch() {
        // one chunk to every idle worker first, so that a burst never piles onto the first one
        for (WorkerProcess worker : workers) {
            worker.fill(false, 1);
        }
        for (WorkerProcess worker : workers) {
            worker.fill(false);
        }
        if (scheduler.hasWorkNow()) {
            scheduler.poke();
        }
    }

    @Override
    public void interruptRunning(Job job) {
        // A task already in a worker's pipe starts later: the watch stops it then (WorkerProcess.checkCancelled).
        job.requestInterrupt();
        for (WorkerProcess worker : workers) {
            worker.killIfRunning(job);
        }
    }

    @Override
    public List<PoolStats.Worker> workers() {
        List<PoolStats.Worker> list = new ArrayList<>();
        for (WorkerProcess worker : workers) {
            // one already replaced is ending (killed, or told SHUTDOWN): its replacement is listed instead
            if (worker.isServing() && !replacedEarly.contains(worker)) {
                list.add(new PoolStats.Worker(worker.id, worker.pid(), Duration.ofNanos(worker.uptimeNanos())));
            }
        }
        return list;
    }

    @Override
    public List<PoolStats.Worker> spares() {
        return spares == null ? List.of() : spares.waiting();
    }
}
