package dev.procpool;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

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
     * Applies {@code function} to every input and returns the results in input order
     * ({@code Pool.map}); blocks until every result is in. Inputs are read once, before the call
     * returns; null elements are fine. With the default chunk size, inputs are cut into chunks of about
     * {@code size / (4 × workers)}, Python's rule.
     *
     * <p>Throws the failure of the lowest failing input index: {@link TaskFailedException},
     * {@link WorkerCrashedException} or {@link TaskTimeoutException}; a {@link ProcessPoolException}
     * when an input, result or the function cannot travel, the input iterator throws, the pool is broken,
     * or the caller was interrupted (the call is then cancelled and the interrupt flag stays set);
     * {@link IllegalStateException} once the pool is shut down.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs
     * @return the results in input order: a new list of the caller's own, modifiable and serializable
     *         like an {@code ArrayList} (numbers may be kept unboxed until read, so two {@code get}s of
     *         one {@code Long} may return equal but distinct objects)
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
     * As {@link #map(SerializableFunction, Iterable)} without blocking ({@code Pool.map_async}).
     * {@code cancel(false)} on the future drops the work not yet started; {@code cancel(true)} also
     * stops the running tasks (their workers are killed and replaced, or their threads interrupted).
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
     * Runs {@code task} in a worker without blocking ({@code Pool.apply_async}). {@code cancel(true)}
     * on a running task kills its worker (a replacement starts), or interrupts its thread in thread
     * mode; {@code cancel(false)} only drops it if not started. The future fails with the
     * {@link ProcessPoolException} {@code apply} would throw.
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
     * Applies {@code function} lazily, results in input order ({@code Pool.imap}); returns at once. The
     * input is read on a library thread, a few chunks per worker ahead of the consumer, so an endless
     * input works in constant memory. With the default chunk size, a known size (a
     * {@link java.util.Collection}) gets the {@code map} rule and an unknown one adapts: chunks grow while
     * tasks are short. See {@link ResultIterator} for blocking, failures and cancellation.
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
     * Hands the pool a large read-only value once, for tasks to read through the returned handle instead
     * of receiving it as an argument each time (see {@link Shared} for where it lives and what closing
     * does). In process mode this writes the value into one shared-memory file and blocks until it is
     * written; workers fetch it the first time a task calls {@link Shared#get()}. Thread mode keeps the
     * object itself. Primitive arrays and {@link java.nio.ByteBuffer}s travel as their raw bytes; other
     * values must be serializable as task inputs are.
     *
     * @param <T>   the value's type
     * @param value what to share; not null, and not to be modified afterwards
     * @return the handle; close it (or the pool) to free the value
     * @throws ProcessPoolException  the value cannot be serialized, or the shared-memory file cannot be
     *                               written (e.g. {@code /dev/shm} is full), or the pool is broken
     * @throws IllegalStateException the pool is shut down
     */
    <T> Shared<T> share(T value);

    // ---------------------------------------------------------------------------------- streams

    /**
     * As {@link #map(SerializableFunction, Iterable)} over a stream, read to its end before the call
     * returns. The stream is not closed: a stream over a resource ({@code Files.lines}) stays the
     * caller's to close.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs
     * @return the results in input order
     */
    default <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Stream<? extends T> inputs) {
        return map(function, once(inputs), 0);
    }

    /**
     * As {@link #map(SerializableFunction, Stream)} with {@code chunkSize} inputs per chunk.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs
     * @param chunkSize inputs sent to a worker at once; 0 for the default
     * @return the results in input order
     */
    default <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Stream<? extends T> inputs,
            int chunkSize) {
        return map(function, once(inputs), chunkSize);
    }

    /**
     * As {@link #mapAsync(SerializableFunction, Iterable)} over a stream, read before this returns.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs
     * @return a future of the results in input order
     */
    default <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
            Stream<? extends T> inputs) {
        return mapAsync(function, once(inputs), 0);
    }

    /**
     * As {@link #starmap(SerializableBiFunction, Iterable)} over a stream of pairs.
     *
     * @param <A>      the first argument's type
     * @param <B>      the second argument's type
     * @param <R>      the result type
     * @param function what to apply to each pair's key and value
     * @param pairs    the argument pairs
     * @return the results in input order
     */
    default <A, B, R> List<R> starmap(SerializableBiFunction<? super A, ? super B, ? extends R> function,
            Stream<? extends Map.Entry<? extends A, ? extends B>> pairs) {
        return starmap(function, once(pairs));
    }

    /**
     * As {@link #imap(SerializableFunction, Iterable)} over a stream, consumed lazily (an endless
     * {@code Stream.iterate} is fine). Close the results, or their {@link ResultIterator#stream()}, to
     * cancel the rest.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs, read lazily
     * @return the results, in input order
     */
    default <T, R> ResultIterator<R> imap(SerializableFunction<? super T, ? extends R> function,
            Stream<? extends T> inputs) {
        return imap(function, once(inputs), 0);
    }

    /**
     * As {@link #imap(SerializableFunction, Stream)} with an explicit chunk size.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs, read lazily
     * @param chunkSize inputs sent to a worker at once; 0 for the default
     * @return the results, in input order
     */
    default <T, R> ResultIterator<R> imap(SerializableFunction<? super T, ? extends R> function,
            Stream<? extends T> inputs, int chunkSize) {
        return imap(function, once(inputs), chunkSize);
    }

    /**
     * As {@link #imapUnordered(SerializableFunction, Iterable)} over a stream, consumed lazily.
     *
     * @param <T>      the input type
     * @param <R>      the result type
     * @param function what to apply
     * @param inputs   the inputs, read lazily
     * @return the results, in completion order
     */
    default <T, R> ResultIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
            Stream<? extends T> inputs) {
        return imapUnordered(function, once(inputs), 0);
    }

    /**
     * As {@link #imapUnordered(SerializableFunction, Stream)} with an explicit chunk size.
     *
     * @param <T>       the input type
     * @param <R>       the result type
     * @param function  what to apply
     * @param inputs    the inputs, read lazily
     * @param chunkSize inputs sent to a worker at once; 0 for the default
     * @return the results, in completion order
     */
    default <T, R> ResultIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
            Stream<? extends T> inputs, int chunkSize) {
        return imapUnordered(function, once(inputs), chunkSize);
    }

    /** A stream as the single-use {@code Iterable} the calls read. */
    private static <T> Iterable<T> once(Stream<T> stream) {
        java.util.Objects.requireNonNull(stream, "inputs");
        return stream::iterator;
    }

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

    /**
     * Whether the pool has stopped.
     *
     * @return true once the pool was closed or terminated and every worker has exited
     */
    boolean isTerminated();

    /**
     * Waits for the pool to stop after {@link #close()} or {@link #terminate()}.
     *
     * @param timeout how long to wait at most
     * @return true if the pool stopped, false if the time ran out
     * @throws InterruptedException the waiting thread was interrupted
     */
    boolean awaitTermination(java.time.Duration timeout) throws InterruptedException;

    /**
     * As {@link #awaitTermination(java.time.Duration)}, in {@code ExecutorService}'s terms.
     *
     * @param timeout how long to wait at most
     * @param unit    the unit of {@code timeout}
     * @return true if the pool stopped, false if the time ran out
     * @throws InterruptedException the waiting thread was interrupted
     */
    default boolean awaitTermination(long timeout, java.util.concurrent.TimeUnit unit) throws InterruptedException {
        return awaitTermination(java.time.Duration.ofNanos(unit.toNanos(timeout)));
    }

    /**
     * This pool as an {@link java.util.concurrent.ExecutorService}, for code that expects one. Tasks
     * must be {@link java.io.Serializable} (e.g. lambdas typed {@link SerializableCallable} or
     * {@link SerializableRunnable}) where they run in other JVMs, else they are rejected with
     * {@link java.util.concurrent.RejectedExecutionException}, as is a task that is itself a
     * {@link java.util.concurrent.Future} (what {@code CompletableFuture.supplyAsync} hands an executor:
     * use {@link #submit(SerializableCallable)} instead). The view follows the JDK's executors to the
     * letter: a future's {@code ExecutionException} has the task's own exception as its cause (a crash or
     * timeout: {@link WorkerCrashedException}, {@link TaskTimeoutException}); {@code shutdown()} closes
     * the pool; {@code shutdownNow()} returns the tasks no worker has started and terminates the pool;
     * {@code isTerminated()} is true once no task runs any more.
     *
     * @return a view of this pool; it holds no resources of its own
     */
    java.util.concurrent.ExecutorService asExecutorService();

    /**
     * Finishes all queued and running work, stops the workers and waits for them to exit
     * ({@code Pool.close(); Pool.join()}). Lazy calls ({@code imap}) stop reading their input: the
     * inputs already read are run and their results stay readable, then the iterator throws a
     * {@link ProcessPoolException} saying the input was cut short; so an endless or abandoned iteration
     * cannot hold {@code close()} forever. Idempotent; concurrent callers all wait for the end.
     * Interruptible: an interrupted close terminates the pool and keeps the interrupt flag set.
     */
    @Override
    void close();

    /**
     * Kills every worker now and fails all pending work with a {@link ProcessPoolException}
     * ({@code Pool.terminate()}). Idempotent; returns within a few seconds at most.
     */
    void terminate();
}
