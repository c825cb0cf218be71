package dev.procpool.internal.engine;

import dev.procpool.PoolMode;
import dev.procpool.ProcessPoolException;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableRunnable;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link dev.procpool.Pool#asExecutorService()}: the {@link ExecutorService} contract over a pool. Futures
 * fail with an {@link ExecutionException} whose cause is the pool's {@link ProcessPoolException}.
 */
public final class PoolExecutorService implements ExecutorService {
    private final EnginePool pool;

    PoolExecutorService(EnginePool pool) {
        this.pool = pool;
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        SerializableCallable<T> callable = sendable(task);
        return guard(() -> pool.submit(callable));
    }

    @Override
    public Future<?> submit(Runnable task) {
        return submit(task, null);
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        SerializableRunnable runnable = sendable(task);
        return guard(() -> pool.submit(runnable).thenApply(ignored -> result));
    }

    @Override
    public void execute(Runnable command) {
        submit(command);
    }

    @SuppressWarnings("unchecked")
    private <T> SerializableCallable<T> sendable(Callable<T> task) {
        Objects.requireNonNull(task, "task");
        if (task instanceof SerializableCallable<?> s) {
            return (SerializableCallable<T>) s;
        }
        requireSerializable(task);
        return task::call;
    }

    private SerializableRunnable sendable(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (task instanceof SerializableRunnable s) {
            return s;
        }
        requireSerializable(task);
        return task::run;
    }

    private void requireSerializable(Object task) {
        if (pool.mode() == PoolMode.PROCESSES && !(task instanceof Serializable)) {
            throw new RejectedExecutionException(task.getClass().getName()
                    + " cannot be sent to a worker JVM: use a SerializableCallable or SerializableRunnable");
        }
    }

    private static <T> Future<T> guard(java.util.function.Supplier<CompletableFuture<T>> submit) {
        try {
            return submit.get();
        } catch (IllegalStateException e) {
            throw new RejectedExecutionException(e.getMessage(), e);
        }
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        List<Future<T>> futures = submitAll(tasks);
        try {
            for (Future<T> future : futures) {
                try {
                    future.get();
                } catch (ExecutionException ignored) {
                    // the caller reads it from the future
                }
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
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        List<Future<T>> futures = submitAll(tasks);
        try {
            for (Future<T> future : futures) {
                try {
                    future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (ExecutionException ignored) {
                    // the caller reads it from the future
                } catch (TimeoutException e) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            throw e;
        }
        futures.forEach(f -> f.cancel(true)); // no-op for the finished ones
        return futures;
    }

    private <T> List<Future<T>> submitAll(Collection<? extends Callable<T>> tasks) {
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            futures.add(submit(task));
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
        long deadline = System.nanoTime() + Math.min(unit.toNanos(timeout), Long.MAX_VALUE / 2);
        LinkedBlockingQueue<CompletableFuture<T>> done = new LinkedBlockingQueue<>();
        List<CompletableFuture<T>> futures = new ArrayList<>();
        try {
            for (Callable<T> task : tasks) {
                CompletableFuture<T> future = (CompletableFuture<T>) submit(task);
                futures.add(future);
                future.whenComplete((v, e) -> done.add(future));
            }
            ExecutionException last = null;
            for (int i = 0; i < futures.size(); i++) {
                CompletableFuture<T> next = done.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (next == null) {
                    throw new TimeoutException("no task completed in time");
                }
                try {
                    return next.get();
                } catch (ExecutionException e) {
                    last = e;
                }
            }
            throw last;
        } finally {
            futures.forEach(f -> f.cancel(true));
        }
    }

    @Override
    public void shutdown() {
        pool.closeInBackground();
    }

    /** Kills the workers; the tasks that never started are not tracked one by one, so the list is empty. */
    @Override
    public List<Runnable> shutdownNow() {
        pool.terminate();
        return List.of();
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
        return pool.awaitTermination(Duration.ofNanos(unit.toNanos(timeout)));
    }
}
