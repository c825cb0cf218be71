package dev.procpool.internal.engine;

import dev.procpool.TaskFailedException;
import dev.procpool.internal.worker.RemoteFailure;

/**
 * The one place a task's exception becomes the {@link TaskFailedException} the caller sees, with the
 * index of its input: from a worker JVM (a {@link RemoteFailure}) or from a pool thread.
 */
public final class TaskFailures {
    private TaskFailures() {}

    /** A task that threw in another JVM; when the exception cannot be rebuilt here, its stack trace goes in the message. */
    public static TaskFailedException remote(long index, RemoteFailure failure) {
        String message = "task for input " + index + " failed: " + describe(failure);
        if (failure.rebuilt() == null) {
            message += "\n(the exception could not be rebuilt here; remote stack trace follows)\n" + failure.stackTrace();
        }
        return new TaskFailedException(index, failure.className(), message, failure.rebuilt());
    }

    /** A task that threw in this JVM: the exception itself is the cause. */
    public static TaskFailedException local(long index, Throwable failure) {
        return new TaskFailedException(index, failure.getClass().getName(),
                "task for input " + index + " failed: " + failure, failure);
    }

    /** "class: message", as {@link Throwable#toString()} would say it in the JVM that threw. */
    public static String describe(RemoteFailure failure) {
        return failure.className() + (failure.message() == null ? "" : ": " + failure.message());
    }
}
