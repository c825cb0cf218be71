package dev.procpool;

import dev.procpool.internal.engine.Durations;
import java.time.Duration;

/**
 * The task ran longer than the pool's task timeout. In process mode its worker JVM was killed (a
 * replacement starts, the worker's other tasks are re-queued); in thread mode its thread was
 * interrupted and abandoned.
 */
public class TaskTimeoutException extends ProcessPoolException {
    private static final long serialVersionUID = 1L;
    /** The limit the task ran past. */
    private final Duration timeout;

    /**
     * A task past its time limit.
     *
     * @param inputIndex the input's index
     * @param timeout    the limit
     */
    public TaskTimeoutException(long inputIndex, Duration timeout) {
        super("task for input " + inputIndex + " ran longer than the task timeout of "
                + Durations.human(timeout), null, inputIndex);
        this.timeout = timeout;
    }

    /**
     * The limit.
     *
     * @return the task timeout the task ran past
     */
    public Duration timeout() {
        return timeout;
    }
}
