package dev.procpool;

/**
 * The task threw. {@link #getCause()} is the original exception, rebuilt in the caller's JVM with its
 * remote stack trace, when its class can be loaded there; otherwise the cause is null and
 * {@link #remoteClassName()} and the message carry its class, message and stack trace as text.
 * The worker and the pool go on.
 */
public class TaskFailedException extends ProcessPoolException {
    private static final long serialVersionUID = 1L;
    /** Class name of the exception the task threw. */
    private final String remoteClassName;

    /**
     * A task failure.
     *
     * @param inputIndex      the input's index
     * @param remoteClassName class name of the exception the task threw
     * @param message         what the caller reads
     * @param cause           the rebuilt exception, or null when it could not be rebuilt
     */
    public TaskFailedException(long inputIndex, String remoteClassName, String message, Throwable cause) {
        super(message, cause, inputIndex);
        this.remoteClassName = remoteClassName;
    }

    /**
     * The exception's class, also when it could not be rebuilt here.
     *
     * @return the class name of the exception the task threw
     */
    public String remoteClassName() {
        return remoteClassName;
    }
}
