package dev.procpool;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The calls of Python's {@code multiprocessing.Pool}, as every procpool pool offers them: the local
 * {@link ProcessPool} (worker JVMs or threads) and {@code dev.procpool.cluster.ClusterPool} (worker JVMs
 * on other machines). Code written against this interface runs on either.
 *
 * <p>Every call throws the same failures: {@link TaskFailedException} (the task threw),
 * {@link WorkerCrashedException} (its worker died), {@link TaskTimeoutException} (it ran past the time
 * limit), {@link ProcessPoolException} (an input, result or function cannot travel, the pool is broken,
 * or the caller was interrupted), and {@link IllegalStateException} once the pool is shut down. The
 * implementations' documentation states the details.
 */
public interface Pool extends AutoCloseable {

    /**
     * Applies {@code function} to every input and returns the results in input order; blocks.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs
     * @return the results in input order
     */
    default <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs) {
        return map(function, inputs, 0);
    }

    /**
     * As {@link #map(SerializableFunction, Iterable)} with {@code chunkSize} inputs per chunk.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs
     * @param chunkSize inputs sent to a worker at once; 0 for the default
     * @return the results in input order
     */
    <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
            int chunkSize);

    /**
     * As {@link #map(SerializableFunction, Iterable)} without blocking.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs
     * @return a future of the results in input order
     */
    default <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs) {
        return mapAsync(function, inputs, 0);
    }

    /**
     * As {@link #mapAsync(SerializableFunction, Iterable)} with an explicit chunk size.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs
     * @param chunkSize inputs sent to a worker at once; 0 for the default
     * @return a future of the results in input order
     */
    <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize);

    /**
     * Applies a two-argument function to every pair; blocks.
     *
     * @param <A>      the first argument's type
     * @param <B>      the second argument's type
     * @param <R>      the result type
     * @param function what to apply to each pair's key and value
     * @param pairs    the argument pairs, e.g. {@code Map.entry(a, b)}
     * @return the results in input order
     */
    <A, B, R> List<R> starmap(SerializableBiFunction<? super A, ? super B, ? extends R> function,
            Iterable<? extends Map.Entry<? extends A, ? extends B>> pairs);

    /**
     * Runs {@code function(argument)} in a worker; blocks.
     *
     * @param <T>      the argument type
     * @param <R>      the result type
     * @param function what to apply
     * @param argument its argument
     * @return the result
     */
    <T, R> R apply(SerializableFunction<? super T, ? extends R> function, T argument);

    /**
     * Runs {@code task} in a worker without blocking.
     *
     * @param <R>  the result type
     * @param task what to run
     * @return a future of its result
     */
    <R> CompletableFuture<R> submit(SerializableCallable<? extends R> task);

    /**
     * Runs {@code task} in a worker without blocking.
     *
     * @param task what to run
     * @return a future that completes with null when the task is done
     */
    CompletableFuture<Void> submit(SerializableRunnable task);

    /**
     * Applies {@code function} lazily, results in input order, with bounded read-ahead.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs, read lazily
     * @return the results, in input order
     */
    default <T, R> ResultIterator<R> imap(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs) {
        return imap(function, inputs, 0);
    }

    /**
     * As {@link #imap(SerializableFunction, Iterable)} with an explicit chunk size.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs, read lazily
     * @param chunkSize inputs sent to a worker at once; 0 for the default
     * @return the results, in input order
     */
    <T, R> ResultIterator<R> imap(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
            int chunkSize);

    /**
     * As {@link #imap(SerializableFunction, Iterable)}, results in completion order.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs, read lazily
     * @return the results, in completion order
     */
    default <T, R> ResultIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs) {
        return imapUnordered(function, inputs, 0);
    }

    /**
     * As {@link #imapUnordered(SerializableFunction, Iterable)} with an explicit chunk size.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs, read lazily
     * @param chunkSize inputs sent to a worker at once; 0 for the default
     * @return the results, in completion order
     */
    <T, R> ResultIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize);

    /**
     * Where the pool runs its tasks.
     *
     * @return {@link PoolMode#PROCESSES} or {@link PoolMode#THREADS}
     */
    PoolMode mode();

    /**
     * A snapshot of the pool's counters and live workers.
     *
     * @return the counters so far
     */
    PoolStats stats();

    /**
     * Whether the pool takes no more calls.
     *
     * @return true once {@link #close()} or {@link #terminate()} was called
     */
    boolean isShutdown();

    /** Finishes queued work, stops the workers and waits for them ({@code close(); join()}). */
    @Override
    void close();

    /** Stops the workers now; pending calls fail. */
    void terminate();
}
