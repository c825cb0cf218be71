package dev.procpool;

import java.io.Serializable;

/**
 * A task without a result that can be sent to a worker JVM; see {@link SerializableFunction}. It may
 * throw checked exceptions ({@code pool.submit(() -> Files.delete(path))}).
 */
@FunctionalInterface
public interface SerializableRunnable extends Runnable, Serializable {
    /**
     * The task.
     *
     * @throws Exception whatever the task throws; the caller gets it as a {@link TaskFailedException}'s cause
     */
    void call() throws Exception;

    /** Runs {@link #call}; a checked exception it throws is thrown as it is, undeclared. */
    @Override
    default void run() {
        try {
            call();
        } catch (Exception e) {
            throw CheckedExceptions.rethrow(e);
        }
    }
}
