package dev.procpool.internal.engine;

import java.util.concurrent.CompletableFuture;

/**
 * The future of a call. {@code cancel(true)} also stops the call's running tasks: in process mode
 * their worker JVMs are killed (and replaced), in thread mode their threads are interrupted.
 */
public final class JobFuture<T> extends CompletableFuture<T> {
    private volatile Runnable interruptRunning = () -> {};

    public void onInterrupt(Runnable action) {
        this.interruptRunning = action;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled && mayInterruptIfRunning) {
            interruptRunning.run();
        }
        return cancelled;
    }

    /** A future for one derived value that cancels this one when cancelled. */
    public <U> JobFuture<U> derive(java.util.function.Function<? super T, ? extends U> mapping) {
        JobFuture<U> derived = new JobFuture<>();
        derived.onInterrupt(() -> cancel(true));
        whenComplete((value, failure) -> {
            if (failure != null) {
                derived.completeExceptionally(failure);
            } else {
                derived.complete(mapping.apply(value));
            }
        });
        derived.whenComplete((value, failure) -> {
            if (derived.isCancelled()) {
                cancel(false);
            }
        });
        return derived;
    }
}
