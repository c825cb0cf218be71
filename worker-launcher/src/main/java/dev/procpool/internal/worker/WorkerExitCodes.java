package dev.procpool.internal.worker;

/**
 * The exit codes a worker uses for its own reasons, and what they mean to the parent reading them.
 * A task may call {@code System.exit} with any code, these included, so the parent words them as a
 * likely cause, never as a certainty.
 */
public final class WorkerExitCodes {
    /** The parent went away (stdin ended without SHUTDOWN, or the worker was re-parented). */
    public static final int PARENT_GONE = 70;
    /** The worker read something that is not the protocol; the reason is on its stderr. */
    public static final int PROTOCOL_ERROR = 71;
    /** The pool's initializer threw (the parent got an INIT_FAILED frame before this exit). */
    public static final int INIT_FAILED = 72;
    /** The worker could not set itself up before its first frame (a Kryo customizer the caller named); the reason is on its stderr. */
    public static final int SETUP_FAILED = 73;

    private WorkerExitCodes() {}

    /** What the worker meant by {@code exitCode}, or null when it is not one of its own. */
    public static String meaning(int exitCode) {
        return switch (exitCode) {
            case PARENT_GONE -> "parent gone";
            case PROTOCOL_ERROR -> "protocol error";
            case INIT_FAILED -> "initializer failed";
            case SETUP_FAILED -> "worker set-up failed";
            default -> null;
        };
    }
}
