/**
 * procpool: Python's {@code multiprocessing.Pool} for the JVM.
 *
 * <p>{@link dev.procpool.ProcessPool} runs a function over many inputs in separate worker JVMs and
 * returns the results in input order; the same calls run on an in-process thread pool in
 * {@link dev.procpool.PoolMode#THREADS}. People choose worker processes for isolation (a task that
 * calls {@code System.exit}, crashes native code or runs out of memory takes down one worker, never
 * the caller), hard time limits (a runaway task's worker is killed), separate heaps (each worker has
 * its own {@code -Xmx}; leaks die with the worker) and code that is not thread-safe (one copy of its
 * global state per JVM).
 *
 * <pre>{@code
 * try (ProcessPool pool = ProcessPool.builder().workers(4).taskTimeout(Duration.ofSeconds(30)).build()) {
 *     List<Long> squares = pool.map(x -> x * x, inputs);                 // Pool.map
 *     for (Iterator<Long> it = pool.imap(x -> x * x, endless, 1000); ...) // Pool.imap, lazy
 *     CompletableFuture<Long> f = pool.submit(() -> slowWork());          // Pool.apply_async
 * }
 * }</pre>
 *
 * <h2>Functions, inputs and results</h2>
 * Task functions are {@link dev.procpool.SerializableFunction} and its siblings, so plain lambdas and
 * method references can be sent to workers. Functions, what they capture, inputs and results travel
 * with Kryo: records, JDK collections and classes without a no-arg constructor work, and
 * {@code Serializable} is not required. What cannot travel (a {@code Thread}, a socket, a lock) fails
 * that input with a {@link dev.procpool.ProcessPoolException} naming the class. Serializers can be
 * added on both sides through {@link dev.procpool.spi.KryoCustomizer}.
 *
 * <h2>Failures</h2>
 * Every failure is an unchecked {@link dev.procpool.ProcessPoolException} naming the input index:
 * {@link dev.procpool.TaskFailedException} (the task threw; the cause is the original exception),
 * {@link dev.procpool.WorkerCrashedException} (its worker died; exit code and last stderr lines),
 * {@link dev.procpool.TaskTimeoutException} (it ran past the task timeout; its worker was killed).
 * A dead worker is replaced and the pool goes on.
 */
package dev.procpool;
