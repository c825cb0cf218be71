package dev.procpool.internal.thread;

import dev.procpool.PoolMode;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPoolException;
import dev.procpool.TaskTimeoutException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Durations;
import dev.procpool.internal.engine.Engine;
import dev.procpool.internal.engine.EnginePool;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.Scheduler;
import dev.procpool.internal.process.WorkerSettings;

import dev.procpool.internal.engine.TaskFailures;
import dev.procpool.internal.worker.TaskInvoker;
import dev.procpool.internal.worker.ThrowableText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs chunks on in-process threads: the same scheduler, jobs and failure types as worker JVMs,
 * without isolation. Inputs and results are passed by reference, not copied.
 *
 * <p>The pool's initializer runs once in every pool thread before its first task; if it throws, the
 * pool breaks with its cause, as with worker JVMs.
 *
 * <p>A thread cannot be killed: a task past the time limit fails with {@link TaskTimeoutException},
 * its thread is interrupted and abandoned (it reports nothing more and exits when the task returns),
 * the rest of its chunk goes back to the queue and a fresh thread takes its place.
 */
public final class ThreadEngine implements Engine {
    private static final Logger log = LoggerFactory.getLogger(ThreadEngine.class);

    private final Scheduler scheduler;
    private final Duration taskTimeout;
    private final Runnable initializer;
    private final Consumer<ProcessPoolException> breakPool;
    private final Lane[] lanes;
    private final long startedNanos = System.nanoTime();
    private final Thread timeoutWatch;
    private volatile boolean stopping;
    /** Pool threads that have not ended, abandoned ones included: the engine has stopped when none is left. */
    private final AtomicInteger liveThreads = new AtomicInteger();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    /** One pool thread and what it is running; the thread's state is guarded by the lane's monitor. */
    private final class Lane implements Runnable {
        final int number;
        final Thread thread;
        Chunk chunk;
        int position;
        long startNanos;
        boolean abandoned;

        Lane(int number, int generation) {
            this.number = number;
            this.thread = new Thread(this, "procpool-thread-" + number + (generation > 0 ? "." + generation : ""));
            thread.setDaemon(true);
        }

        void start() {
            liveThreads.incrementAndGet();
            thread.start();
        }

        @Override
        public void run() {
            try {
                runTasks();
            } finally {
                if (liveThreads.decrementAndGet() == 0 && stopping) {
                    stopped.complete(null);
                }
            }
        }

        private void runTasks() {
            if (!initialize()) {
                return;
            }
            while (!stopping) {
                Chunk next;
                try {
                    next = scheduler.awaitWork(100, TimeUnit.MILLISECONDS) ? scheduler.pollNow() : null;
                } catch (InterruptedException e) {
                    if (isAbandoned()) {
                        return;
                    }
                    continue; // a cancel(true) that came late, or terminate(): the loop condition decides
                }
                if (next != null && !runChunk(next)) {
                    return;
                }
                Thread.interrupted(); // an interrupt meant for that chunk must not hit the next
            }
        }

        /** Runs the pool's initializer in this thread, as a worker JVM does; false if it threw. */
        private boolean initialize() {
            if (initializer == null) {
                return true;
            }
            try {
                initializer.run();
                return true;
            } catch (Throwable failure) {
                breakPool.accept(new ProcessPoolException("the pool's initializer failed in " + thread.getName() + ": "
                        + ThrowableText.describe(failure), failure));
                return false;
            }
        }

        /** Runs the chunk; false when this lane was abandoned meanwhile. */
        private boolean runChunk(Chunk next) {
            Job job = next.job();
            for (int i = 0; i < next.size(); i++) {
                synchronized (this) {
                    if (abandoned) {
                        return false;
                    }
                    if (job.isFinished()) {
                        break;
                    }
                    chunk = next;
                    position = i;
                    startNanos = System.nanoTime();
                }
                long index = next.indices()[i];
                Object value = null;
                Throwable failure = null;
                try {
                    value = TaskInvoker.invoke(job.function, next.inputs()[i]);
                } catch (Throwable t) { // even an Error: rethrown, it would end this thread and leave the call hanging
                    failure = t;
                }
                synchronized (this) { // against the timeout watch: one outcome per input
                    if (abandoned) {
                        return false; // the watch reported a timeout for this input already
                    }
                    chunk = null;
                    if (failure != null) {
                        job.failed(index, TaskFailures.local(index, failure));
                    } else {
                        job.succeeded(index, value);
                    }
                }
            }
            return true;
        }

        synchronized boolean isAbandoned() {
            return abandoned;
        }

        /** Called by the timeout watch: abandons this lane if its task is past the limit. */
        synchronized boolean abandonIfLate(long nowNanos) {
            if (chunk == null || abandoned || nowNanos - startNanos < taskTimeout.toNanos()) {
                return false;
            }
            abandoned = true;
            return true;
        }

        /** After {@link #abandonIfLate}: fails the late task and gives back the rest of its chunk. */
        void reportLate() {
            Chunk late;
            int at;
            synchronized (this) {
                late = chunk;
                at = position;
            }
            long index = late.indices()[at];
            log.warn("procpool: task for input {} ran past the {} time limit; abandoning {}", index, Durations.human(taskTimeout),
                    thread.getName());
            thread.interrupt();
            late.job().failed(index, new TaskTimeoutException(index, taskTimeout));
            if (at + 1 < late.size()) {
                scheduler.requeue(late.tail(at + 1));
            }
        }

        synchronized boolean isRunning(Job job) {
            return chunk != null && chunk.job() == job;
        }
    }

    public ThreadEngine(WorkerSettings settings, EnginePool.EngineContext context) {
        int workers = settings.workers();
        this.scheduler = context.scheduler();
        this.taskTimeout = settings.taskTimeout();
        this.initializer = settings.initializer();
        this.breakPool = context.breakPool();
        this.lanes = new Lane[workers];
        for (int i = 0; i < workers; i++) {
            lanes[i] = new Lane(i + 1, 0);
            lanes[i].start();
        }
        if (taskTimeout != null) {
            timeoutWatch = new Thread(this::watchTimeouts, "procpool-thread-timeout-watch");
            timeoutWatch.setDaemon(true);
            timeoutWatch.start();
        } else {
            timeoutWatch = null;
        }
    }

    @Override
    public PoolMode mode() {
        return PoolMode.THREADS;
    }

    private void watchTimeouts() {
        long pollMillis = Engine.watchIntervalMillis(taskTimeout);
        int[] generations = new int[lanes.length];
        while (!stopping) {
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (int i = 0; i < lanes.length; i++) {
                Lane lane = lanes[i];
                if (lane.abandonIfLate(now)) {
                    if (!stopping) { // the replacement is in place before anyone hears of the timeout
                        Lane fresh = new Lane(lane.number, ++generations[i]);
                        synchronized (lanes) {
                            lanes[i] = fresh;
                        }
                        fresh.start();
                    }
                    lane.reportLate();
                }
            }
        }
    }

    private Lane[] lanes() {
        synchronized (lanes) {
            return lanes.clone();
        }
    }

    @Override
    public void dispatch() {
        scheduler.poke();
    }

    @Override
    public void interruptRunning(Job job) {
        for (Lane lane : lanes()) {
            if (lane.isRunning(job)) {
                lane.thread.interrupt();
            }
        }
    }

    @Override
    public int parallelism() {
        return lanes.length;
    }

    @Override
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    /** After {@code stopping} is set: the last thread to end completes {@link #stopped}, or none is left. */
    private void noteStopping() {
        if (liveThreads.get() == 0) {
            stopped.complete(null);
        }
    }

    @Override
    public void shutdown(long deadlineNanos) throws InterruptedException {
        stopping = true;
        noteStopping();
        stopTimeoutWatch();
        for (Lane lane : lanes()) {
            lane.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        }
    }

    @Override
    public void terminate() {
        stopping = true;
        noteStopping();
        stopTimeoutWatch();
        for (Lane lane : lanes()) {
            lane.thread.interrupt();
        }
    }

    private void stopTimeoutWatch() {
        if (timeoutWatch != null) {
            timeoutWatch.interrupt();
        }
    }

    @Override
    public List<PoolStats.Worker> workers() {
        long pid = ProcessHandle.current().pid();
        Duration uptime = Duration.ofNanos(System.nanoTime() - startedNanos);
        List<PoolStats.Worker> list = new ArrayList<>();
        for (Lane lane : lanes()) {
            if (lane.thread.isAlive()) {
                list.add(new PoolStats.Worker(lane.number, pid, uptime));
            }
        }
        return list;
    }
}
