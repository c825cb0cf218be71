package dev.procpool.internal.engine;

import dev.procpool.TaskFailedException;
import dev.procpool.internal.worker.RemoteFailure;
import dev.procpool.internal.worker.ThrowableText;

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

    /**
     * A task that threw in this JVM: the exception itself is the cause, unless it fought being read
     * ({@link ThrowableText#clean()}); then, as from a worker JVM, the caller gets it as text only.
     */
    public static TaskFailedException local(long index, Throwable failure) {
        ThrowableText text = ThrowableText.of(failure);
        String message = "task for input " + index + " failed: " + text.className()
                + (text.message() == null ? "" : ": " + text.message());
        if (!text.clean()) {
            message += "\n(the exception could not be read in full; what could be read follows)\n" + text.stackTrace();
            return new TaskFailedException(index, text.className(), message, null);
        }
        return new TaskFailedException(index, text.className(), message, failure);
    }

    /** "class: message", as {@link Throwable#toString()} would say it in the JVM that threw. */
    public static String describe(RemoteFailure failure) {
        return failure.className() + (failure.message() == null ? "" : ": " + failure.message());
    }
}
