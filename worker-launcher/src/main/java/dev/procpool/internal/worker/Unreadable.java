package dev.procpool.internal.worker;

/**
 * Stands in for a function or an input the worker could not rebuild: the task that needs it fails
 * with the reason, the rest of the chunk runs.
 */
public record Unreadable(String what, Throwable failure) {
    /** The exception the task that needed it fails with. */
    public IllegalStateException toException() {
        return new IllegalStateException("the worker could not read " + what + ": " + failure, failure);
    }
}
