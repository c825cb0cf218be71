package dev.procpool.internal.engine;

import dev.procpool.PoolMode;
import dev.procpool.ProcessPoolException;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableRunnable;
import dev.procpool.TaskFailedException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link dev.procpool.Pool#asExecutorService()}: the {@link ExecutorService} contract, to the letter of
 * the JDK's documentation, over a pool.
 *
 * <ul>
 *   <li>A future's {@link ExecutionException} has the task's own exception as its cause (rebuilt with its
 *       remote stack trace); where its class cannot be loaded here, the {@link TaskFailedException} that
 *       carries it as text. A crash or a timeout is the cause as {@code WorkerCrashedException} or
 *       {@code TaskTimeoutException}.
 *   <li>{@code shutdown()} closes the pool in the background; {@code shutdownNow()} takes back the tasks
 *       that no worker has started, returns them (the futures {@code submit} returned, the runnables
 *       {@code execute} got) and terminates the pool: running tasks are killed with their worker JVM, or
 *       interrupted in thread mode. A task already queued inside a worker JVM's pipe (a worker holds one
 *       more while it computes) counts as started: its future fails with the termination.
 *       {@code isTerminated()} becomes true once no task runs any more.
 *   <li>A task that cannot run in another JVM is rejected at once, with the reason: one that is not
 *       {@link Serializable}, and one that is itself a {@link Future} (e.g. what
 *       {@code CompletableFuture.supplyAsync} hands an executor), which would complete a copy of itself
 *       in the worker while the caller's future waits forever.
 * </ul>
 */
public final class PoolExecutorService implements ExecutorService {
    private final EnginePool pool;
    /** Submitted tasks whose outcome is not in yet, in submission order, with what shutdownNow returns. */
    private final Map<Job, Runnable> pending = new LinkedHashMap<>();

    PoolExecutorService(EnginePool pool) {
        this.pool = pool;
    }

    // ---------------------------------------------------------------------------------- submitting

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        return start(sendable(task), task, null);
    }

    private <T> Future<T> start(SerializableRunnable task, Runnable local, T result, Runnable returnedByShutdownNow) {
        SerializableCallable<T> sendable = () -> {
            task.run();
            return null;
        };
        Callable<T> here = () -> {
            local.run();
            return result;
        };
        return start(sendable, here, returnedByShutdownNow, result);
    }

    @Override
    public Future<?> submit(Runnable task) {
        return submit(task, null);
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        Objects.requireNonNull(task, "task");
        return start(sendable(task), task, result, null);
    }

    @Override
    public void execute(Runnable command) {
        Objects.requireNonNull(command, "command");
        start(sendable(command), command, null, command);
    }

    /** A future of one task; {@link #run()} runs it here, for a task {@code shutdownNow} handed back. */
    private static final class TaskFuture<T> extends CompletableFuture<T> implements RunnableFuture<T> {
        private final Callable<T> task;
        private volatile JobFuture<?> running;

        TaskFuture(Callable<T> task) {
            this.task = task;
        }

        @Override
        public void run() {
            if (isDone()) {
                return;
            }
            try {
                complete(task.call());
            } catch (Throwable e) {
                completeExceptionally(e);
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            JobFuture<?> job = running;
            if (cancelled && job != null) {
                job.cancel(mayInterruptIfRunning);
            }
            return cancelled;
        }
    }

    private <T> Future<T> start(SerializableCallable<T> sendable, Callable<T> local, Runnable returnedByShutdownNow) {
        return start(sendable, local, returnedByShutdownNow, null);
    }

    /** Queues one task; its future completes with {@code fixedResult} when given, else with the task's value. */
    @SuppressWarnings("unchecked")
    private <T> Future<T> start(SerializableCallable<T> sendable, Callable<T> local, Runnable returnedByShutdownNow,
            T fixedResult) {
        TaskFuture<T> future = new TaskFuture<>(local);
        MapJob job;
        synchronized (pending) {
            try {
                job = pool.startMap(sendable, new Object[] {null}, 1);
            } catch (IllegalStateException e) {
                throw new RejectedExecutionException("the pool is shut down", e);
            } catch (ProcessPoolException e) {
                throw new RejectedExecutionException(e.getMessage(), e);
            }
            if (!job.isFinished()) {
                pending.put(job, returnedByShutdownNow != null ? returnedByShutdownNow : future);
            }
        }
        future.running = job.future;
        job.future.whenComplete((results, failure) -> {
            synchronized (pending) {
                pending.remove(job);
            }
            if (job.isWithdrawn()) {
                return; // handed back by shutdownNow: the caller may run it
            }
            if (failure != null) {
                future.completeExceptionally(ownCause(failure));
            } else {
                future.complete(fixedResult != null ? fixedResult : (T) ((List<?>) results).get(0));
            }
        });
        return future;
    }

    /** What the JDK's executors report as the cause: the task's own exception, where it could be rebuilt. */
    private static Throwable ownCause(Throwable failure) {
        if (failure instanceof TaskFailedException failed && failed.getCause() != null) {
            return failed.getCause();
        }
        return failure;
    }

    @SuppressWarnings("unchecked")
    private <T> SerializableCallable<T> sendable(Callable<T> task) {
        if (task instanceof SerializableCallable<?> s) {
            return (SerializableCallable<T>) s;
        }
        checkSendable(task);
        return task::call;
    }

    private SerializableRunnable sendable(Runnable task) {
        if (task instanceof SerializableRunnable s) {
            return s;
        }
        checkSendable(task);
        return task::run;
    }

    private void checkSendable(Object task) {
        if (pool.mode() != PoolMode.PROCESSES) {
            return;
        }
        if (task instanceof Future<?>) {
            throw new RejectedExecutionException(task.getClass().getName() + " is itself a Future: run in a worker JVM"
                    + " it would complete a copy of itself there, never the caller's. Use pool.submit(() -> ...)"
                    + " and its CompletableFuture instead (e.g. in place of CompletableFuture.supplyAsync(s, executor))");
        }
        if (!(task instanceof Serializable)) {
            throw new RejectedExecutionException(task.getClass().getName()
                    + " cannot be sent to a worker JVM: use a SerializableCallable or SerializableRunnable");
        }
    }

    // ---------------------------------------------------------------------------------- invoking

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        List<Future<T>> futures = submitAll(tasks);
        try {
            for (Future<T> future : futures) {
                awaitQuietly(future, Long.MAX_VALUE);
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            throw e;
        }
        return futures;
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        long deadline = deadline(timeout, unit);
        List<Future<T>> futures = submitAll(tasks);
        try {
            for (Future<T> future : futures) {
                if (!awaitQuietly(future, deadline)) {
                    break;
                }
            }
        } finally {
            futures.forEach(f -> f.cancel(true)); // no-op for the finished ones
        }
        return futures;
    }

    /** Waits for the future up to the deadline; false if the time ran out. Its outcome stays in it. */
    private static boolean awaitQuietly(Future<?> future, long deadline) throws InterruptedException {
        try {
            future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | java.util.concurrent.CancellationException ignored) {
            // the caller reads it from the future
        } catch (TimeoutException e) {
            return false;
        }
        return true;
    }

    private <T> List<Future<T>> submitAll(Collection<? extends Callable<T>> tasks) {
        for (Callable<T> task : tasks) {
            Objects.requireNonNull(task, "a task in the collection is null");
        }
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (Callable<T> task : tasks) {
                futures.add(submit(task));
            }
        } catch (RuntimeException e) {
            futures.forEach(f -> f.cancel(true));
            throw e;
        }
        return futures;
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return invokeAny(tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("unreachable", e);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("no tasks");
        }
        long deadline = deadline(timeout, unit);
        List<Future<T>> futures = submitAll(tasks);
        LinkedBlockingQueue<Future<T>> done = new LinkedBlockingQueue<>();
        for (Future<T> future : futures) {
            ((CompletableFuture<T>) future).whenComplete((v, e) -> done.add(future));
        }
        try {
            ExecutionException last = null;
            for (int i = 0; i < futures.size(); i++) {
                Future<T> next = done.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (next == null) {
                    throw new TimeoutException("no task completed within " + timeout + " " + unit);
                }
                try {
                    return next.get();
                } catch (ExecutionException e) {
                    last = e;
                } catch (java.util.concurrent.CancellationException e) {
                    last = new ExecutionException(e);
                }
            }
            throw last;
        } finally {
            futures.forEach(f -> f.cancel(true));
        }
    }

    private static long deadline(long timeout, TimeUnit unit) {
        Objects.requireNonNull(unit, "unit");
        return System.nanoTime() + Math.min(unit.toNanos(timeout), Long.MAX_VALUE / 2);
    }

    // --------------------------------------------------------------------------------- lifecycle

    @Override
    public void shutdown() {
        pool.closeInBackground();
    }

    @Override
    public List<Runnable> shutdownNow() {
        List<Runnable> neverStarted = new ArrayList<>();
        List<Map.Entry<Job, Runnable>> candidates;
        synchronized (pending) {
            candidates = new ArrayList<>(pending.entrySet());
        }
        for (Map.Entry<Job, Runnable> entry : candidates) {
            if (pool.withdraw(entry.getKey())) {
                neverStarted.add(entry.getValue());
            }
        }
        pool.terminate();
        return neverStarted;
    }

    @Override
    public boolean isShutdown() {
        return pool.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return pool.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return pool.awaitTermination(java.time.Duration.ofNanos(unit.toNanos(timeout)));
    }
}
