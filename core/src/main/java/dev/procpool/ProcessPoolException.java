package dev.procpool;

/**
 * Base of every failure a pool reports for a task or for itself. Unchecked. When the failure
 * belongs to one input, {@link #inputIndex()} names it (its position in the call's inputs, from 0).
 */
public class ProcessPoolException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** Value of {@link #inputIndex()} when the failure belongs to no single input. */
    public static final long NO_INDEX = -1;

    /** The failed input's index, or {@link #NO_INDEX}. */
    private final long inputIndex;

    /**
     * A failure of the pool itself, not of one input.
     *
     * @param message what went wrong
     */
    public ProcessPoolException(String message) {
        this(message, null, NO_INDEX);
    }

    /**
     * A failure of the pool itself, with its cause.
     *
     * @param message what went wrong
     * @param cause   why, or null
     */
    public ProcessPoolException(String message, Throwable cause) {
        this(message, cause, NO_INDEX);
    }

    /**
     * A failure of one input.
     *
     * @param message    what went wrong
     * @param cause      why, or null
     * @param inputIndex the input's index, or {@link #NO_INDEX}
     */
    public ProcessPoolException(String message, Throwable cause, long inputIndex) {
        super(message, cause);
        this.inputIndex = inputIndex;
    }

    /**
     * Which input failed: its position in the call's inputs, from 0. A failure that belongs to no single
     * input (the pool is broken or was terminated, the caller was interrupted, the function cannot be
     * sent, the input iterator threw) has {@link #NO_INDEX}, -1.
     *
     * @return the index of the failed input, or {@link #NO_INDEX}
     */
    public long inputIndex() {
        return inputIndex;
    }
}
