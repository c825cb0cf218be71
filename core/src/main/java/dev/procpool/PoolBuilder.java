package dev.procpool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The options every pool's builder has, checked in one place: how worker JVMs are started and what
 * happens to the tasks they run. {@link ProcessPool.Builder} and {@code ClusterPool.Builder} add their
 * own (on a cluster, these options apply to each member's workers). Not thread-safe.
 *
 * @param <P> the pool it builds
 * @param <B> the concrete builder, returned by each option for chaining
 */
public abstract class PoolBuilder<P extends Pool, B extends PoolBuilder<P, B>> {
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private SerializableRunnable initializer;
    private int maxTasksPerWorker;
    private Duration taskTimeout;
    private int retries;
    private ProgressListener progress;

    /** For the builders of procpool's pools. */
    protected PoolBuilder() {}

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /**
     * JVM options for every worker, e.g. {@code "-Xmx512m"}, added to those given before. JVM logging
     * options that would write to stdout ({@code -Xlog:gc}, {@code -verbose:gc}) are pointed at stderr,
     * since stdout carries the worker's channel. Default: none.
     *
     * @param options the options, one per argument
     * @return this builder
     */
    public B jvmOptions(String... options) {
        for (String option : options) {
            jvmOptions.add(Objects.requireNonNull(option, "option"));
        }
        return self();
    }

    /**
     * Sets one environment variable for every worker, on top of the environment it would have anyway.
     *
     * @param name  the variable's name
     * @param value its value
     * @return this builder
     */
    public B environment(String name, String value) {
        environment.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
        return self();
    }

    /**
     * Runs once in every worker before its first task, replacement workers included
     * ({@code Pool(initializer=...)}). If it throws, the pool fails with its cause instead of restarting
     * workers. Default: none.
     *
     * @param initializer what to run
     * @return this builder
     */
    public B initializer(SerializableRunnable initializer) {
        this.initializer = Objects.requireNonNull(initializer, "initializer");
        return self();
    }

    /**
     * Replaces a worker after it ran this many tasks ({@code maxtasksperchild}), so that leaks die with
     * it; no task is lost or run twice. Default: 0, never.
     *
     * @param tasks tasks per worker, or 0 for no limit
     * @return this builder
     * @throws IllegalArgumentException {@code tasks} is negative
     */
    public B maxTasksPerWorker(int tasks) {
        this.maxTasksPerWorker = atLeast("maxTasksPerWorker", tasks, 0);
        return self();
    }

    /**
     * Hard limit for one task: a task still running after it fails with {@link TaskTimeoutException}; in
     * process mode its worker JVM is killed and replaced, in thread mode its thread is interrupted and
     * abandoned. Default: none.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException {@code timeout} is zero or negative
     */
    public B taskTimeout(Duration timeout) {
        this.taskTimeout = positive("taskTimeout", timeout);
        return self();
    }

    /**
     * How many times a task whose worker crashed is run again, on a fresh worker, before it fails with
     * {@link WorkerCrashedException}. Task exceptions and timeouts are never retried. Default: 0.
     *
     * @param retries 0 or more
     * @return this builder
     * @throws IllegalArgumentException {@code retries} is negative
     */
    public B retries(int retries) {
        this.retries = atLeast("retries", retries, 0);
        return self();
    }

    /**
     * Reports the progress of every call with more than one input to {@code listener}, a few times per
     * second and once at its end; {@link ProgressListener#console()} draws a live line on stderr.
     * Default: none.
     *
     * @param listener receives the reports
     * @return this builder
     */
    public B progress(ProgressListener listener) {
        this.progress = Objects.requireNonNull(listener, "listener");
        return self();
    }

    /**
     * Builds the pool and starts its workers.
     *
     * @return the new pool
     */
    public abstract P build();

    // -------------------------------------------------------------------- for the concrete builders

    /**
     * The JVM options given so far.
     *
     * @return an unmodifiable copy
     */
    protected final List<String> jvmOptions() {
        return List.copyOf(jvmOptions);
    }

    /**
     * The environment variables given so far.
     *
     * @return an unmodifiable copy
     */
    protected final Map<String, String> environment() {
        return Map.copyOf(environment);
    }

    /**
     * The initializer.
     *
     * @return it, or null
     */
    protected final SerializableRunnable initializer() {
        return initializer;
    }

    /**
     * The recycling budget.
     *
     * @return tasks per worker, 0 for none
     */
    protected final int maxTasksPerWorker() {
        return maxTasksPerWorker;
    }

    /**
     * The task time limit.
     *
     * @return it, or null for none
     */
    protected final Duration taskTimeout() {
        return taskTimeout;
    }

    /**
     * The crash retries.
     *
     * @return 0 or more
     */
    protected final int retries() {
        return retries;
    }

    /**
     * The progress listener.
     *
     * @return it, or null
     */
    protected final ProgressListener progress() {
        return progress;
    }

    /**
     * Checks a count option.
     *
     * @param option its name, for the message
     * @param value  the value given
     * @param least  the smallest allowed
     * @return {@code value}
     * @throws IllegalArgumentException {@code value} is below {@code least}
     */
    protected static int atLeast(String option, int value, int least) {
        if (value < least) {
            throw new IllegalArgumentException(option + " must be >= " + least + ", got " + value);
        }
        return value;
    }

    /**
     * Checks a time option.
     *
     * @param option its name, for the message
     * @param value  the value given
     * @return {@code value}
     * @throws IllegalArgumentException {@code value} is zero or negative
     * @throws NullPointerException     {@code value} is null
     */
    protected static Duration positive(String option, Duration value) {
        Objects.requireNonNull(value, option);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(option + " must be positive, got " + value);
        }
        return value;
    }
}
