package dev.procpool;

import java.time.Duration;

/**
 * The task ran longer than the pool's task timeout. In process mode its worker JVM was killed (a
 * replacement starts, the worker's other tasks are re-queued); in thread mode its thread was
 * interrupted and abandoned.
 */
public class TaskTimeoutException extends ProcessPoolException {
    private static final long serialVersionUID = 1L;
    private final Duration timeout;

    public TaskTimeoutException(long inputIndex, Duration timeout) {
        super("task for input " + inputIndex + " ran longer than the task timeout of " + timeout, null, inputIndex);
        this.timeout = timeout;
    }

    public Duration timeout() {
        return timeout;
    }
}
