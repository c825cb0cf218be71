package dev.procpool;

import java.util.List;

/**
 * The worker JVM died while running this task ({@code System.exit}, {@code halt}, a signal, an
 * {@code OutOfMemoryError}, a native crash, or a corrupt channel). The message names the exit code or
 * signal and the last lines the worker wrote to stderr. A replacement worker is started; the pool
 * goes on.
 */
public class WorkerCrashedException extends ProcessPoolException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;
    private final List<String> lastStderrLines;

    public WorkerCrashedException(long inputIndex, String message, int exitCode, List<String> lastStderrLines) {
        super(message, null, inputIndex);
        this.exitCode = exitCode;
        this.lastStderrLines = List.copyOf(lastStderrLines);
    }

    /** The worker's exit value; 128+N means it was killed by signal N or exited with that code. */
    public int exitCode() {
        return exitCode;
    }

    /** The last lines the worker wrote to stderr before it died, oldest first. */
    public List<String> lastStderrLines() {
        return lastStderrLines;
    }
}
